// Times encoding throughput of @huggingface/tokenizers (same tokenizer.json as AlignSharp) and of
// tiktoken (cl100k_base, Rust compiled to WASM) on the same text file.
//   node bench_tokenizer.mjs TOKENIZER_DIR TEXT_FILE
// Prints one line per library: "<name> encode: <x> MB/s (<n> tokens)".
import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { get_encoding } from "tiktoken";

const [dir, file] = process.argv.slice(2);
const text = fs.readFileSync(file, "utf8");
const mb = Buffer.byteLength(text, "utf8") / 1e6;

function time(name, encode) {
  const times = [];
  let n = 0;
  for (let r = 0; r < 3; r++) {
    const start = process.hrtime.bigint();
    n = encode(text);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  console.log(`${name} encode: ${(mb / times[1]).toFixed(2)} MB/s (${n} tokens, best of 3: ${(mb / times[0]).toFixed(2)} MB/s)`);
}

const hf = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
  JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")));
time("@huggingface/tokenizers", (t) => hf.encode(t, { add_special_tokens: false }).ids.length);
const enc = get_encoding("cl100k_base");
time("tiktoken cl100k_base", (t) => enc.encode_ordinary(t).length);
enc.free();
