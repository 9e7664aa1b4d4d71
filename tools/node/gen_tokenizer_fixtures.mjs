// Generates tokenizer parity fixtures with @huggingface/tokenizers (an independent implementation).
//
//   tools/fixtures/make_tokenizer_fixtures.sh    (trains the base tokenizers with AlignSharp, then runs this)
//
// Reads the tokenizer.json files AlignSharp trained under tests/AlignSharp.Models.Tests/Fixtures/tokenizers/,
// derives variants that exercise added-token options, and records what @huggingface/tokenizers produces for
// stress texts: ids with and without special tokens, and the decoded text.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = path.join(root, "tests", "AlignSharp.Models.Tests", "Fixtures", "tokenizers");
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name, "tokenizer.json"), "utf8"));
const readConfig = (name) => JSON.parse(fs.readFileSync(path.join(dir, name, "tokenizer_config.json"), "utf8"));

function variant(base, name, edit) {
  const json = structuredClone(read(base));
  const config = structuredClone(readConfig(base));
  edit(json, config);
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(path.join(dir, name, "tokenizer.json"), JSON.stringify(json, null, 2));
  fs.writeFileSync(path.join(dir, name, "tokenizer_config.json"), JSON.stringify(config, null, 2));
}

// GPT-2 with add_prefix_space, as some GPT-2 derivatives ship.
variant("gpt2", "gpt2-prefix", (j) => { j.pre_tokenizer.add_prefix_space = true; });

// Llama-3 base plus added tokens with every matching option.
variant("llama3", "llama3-added", (j, c) => {
  let next = Math.max(...Object.values(j.model.vocab), ...j.added_tokens.map((t) => t.id)) + 1;
  const add = (content, opts) => {
    const t = { id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...opts };
    j.added_tokens.push(t);
    c.added_tokens_decoder[String(t.id)] = { content, lstrip: t.lstrip, normalized: t.normalized, rstrip: t.rstrip, single_word: t.single_word, special: t.special };
  };
  add("<mask>", { lstrip: true });
  add("[TOOL]", { rstrip: true });
  add("<both>", { lstrip: true, rstrip: true });
  // single_word is left out: tokenizers.js ignores it (it matches "wolf" inside "wolfpack"), while the Rust
  // tokenizers library only matches at word boundaries; AlignSharp follows Rust and tests that separately.
  add("<|python_tag|>", {});
  add("ée", { special: false });
});

const texts = [
  "Hello world",
  "Hello, World! How are you doing today?",
  "it's I'm we'll they're I've she'd don't DON'T It'S WE'LL 'twas ''quoted''",
  "The year 2026 and 1234567 and 3.14159 and 12,345.67 and 007",
  "  leading spaces and trailing spaces   ",
  "tabs\tand\t\tdouble tabs\t",
  "line one\nline two\n\nline four\r\nwindows line\r\n\r\n",
  "   \n   \n\t\n",
  "multiple    spaces     between     words",
  "机器学习模型需要大量的数据来训练。",
  "今日は良い天気ですね",
  "Быстрая коричневая лиса",
  "مرحبا بالعالم",
  "नमस्ते दुनिया",
  "emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 ❤️ 🤖",
  "math 𝐀𝐁𝐂 𝔸𝔹ℂ rare CJK 𠀀𠀁𪚥 x𝐀y",
  "combining e\u0301 a\u0308 n\u0303 and precomposed é ä ñ",
  "control chars \u0000 \u0007 \u001b[31m red \u007f end",
  "non-breaking\u00a0space and ideographic\u3000space and thin\u2009space",
  "(parenthesized) [bracketed] {braced} <angled> \"quoted\" 'single'",
  "def f(x):\n    return x ** 2  # square\n",
  "https://example.com/path?query=1&x=2#frag",
  "email: someone@example.com, phone: +1 (555) 123-4567",
  "!!!??? ... --- *** ### @@@ $$$ %%% ^^^ &&&",
  "a",
  " ",
  "",
  "ÀÉÎÕÜ àéîõü ÇçÑñ ßẞ",
  "zxqv brrrp sttst aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "<|begin_of_text|>Hello<|eot_id|>",
  "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n",
  "fill the <mask> here and   <mask>   there",
  "[TOOL]   call and [TOOL]\n\nnext",
  "x   <both>   y",
  "run <|python_tag|>print(1)",
  "café ée éen",
  "Ünïcödé nörmälïzätïön: e\u0301 vs é, Å vs A\u030a, ﬁ ligature",
];

const names = ["gpt2", "gpt2-prefix", "llama3", "llama3-added", "qwen2"];
const cases = [];
for (const name of names) {
  const tok = new Tokenizer(read(name), readConfig(name));
  for (const text of texts) {
    const withSpecial = tok.encode(text, { add_special_tokens: true }).ids;
    const without = tok.encode(text, { add_special_tokens: false }).ids;
    cases.push({ tokenizer: name, text, ids: withSpecial, ids_no_special: without, decoded: withSpecial.length ? tok.decode(withSpecial, { skip_special_tokens: false }) : "" });
  }
}
const out = path.join(root, "tests", "AlignSharp.Models.Tests", "Fixtures", "tokenizer_parity.json");
fs.writeFileSync(out, JSON.stringify({ generator: "tools/node/gen_tokenizer_fixtures.mjs", reference: "@huggingface/tokenizers 0.2.0", cases }, null, 1));
console.log(`wrote ${cases.length} cases to ${path.relative(root, out)}`);
