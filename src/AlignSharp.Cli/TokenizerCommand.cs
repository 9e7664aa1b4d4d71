using System.Diagnostics;
using System.Text;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Cli;

/// <summary>`alignsharp tokenizer train|encode|decode|corpus`.</summary>
internal static class TokenizerCommand
{
    internal static readonly CommandSpec TrainSpec = new("tokenizer train", "--input FILE --vocab-size N --out DIR [options]",
        "train a byte-level BPE; writes tokenizer.json + tokenizer_config.json",
        new("input", "FILE", "training text, one document per line; required"),
        new("vocab-size", "N", "vocabulary size including the special tokens; required"),
        new("out", "DIR", "output folder; required"),
        new("special", "TOKEN", "a special token (repeat for several); --bos and --eos are added"),
        new("style", "NAME", "pre-tokenizer and byte mapping of this model family", "llama3", ["llama3", "qwen2", "gpt2"]),
        new("bos", "TOKEN", "beginning-of-sequence token, prepended when encoding with special tokens"),
        new("eos", "TOKEN", "end-of-sequence token, written to tokenizer_config.json"),
        new("min-frequency", "F", "merge only pairs seen at least this often", "2"),
        new("chat-template", "FILE|NAME", $"chat template stored in tokenizer_config.json: a Jinja file or a built-in name ({string.Join(", ", AlignSharp.Models.ChatTemplates.BuiltInTemplates.Names)})"));

    internal static readonly CommandSpec EncodeSpec = new("tokenizer encode", "--tokenizer PATH (--text TEXT | --input FILE) [--no-special-tokens]",
        "print token ids, one line per input line",
        new("tokenizer", "PATH", "tokenizer.json or its folder; required"),
        new("text", "TEXT", "the text to encode"),
        new("input", "FILE", "a file to encode line by line"),
        OptionSpec.Flag("no-special-tokens", "do not add the BOS token (and other special tokens the tokenizer adds)"));

    internal static readonly CommandSpec DecodeSpec = new("tokenizer decode", "--tokenizer PATH --ids \"1 2 3\" [--skip-special-tokens]",
        "print the decoded text exactly (no newline added)",
        new("tokenizer", "PATH", "tokenizer.json or its folder; required"),
        new("ids", "\"1 2 3\"", "token ids separated by spaces or commas; required"),
        OptionSpec.Flag("skip-special-tokens", "leave special tokens out of the text"));

    internal static readonly CommandSpec CorpusSpec = new("tokenizer corpus", "--out FILE [--mb N] [--seed S]",
        "write a synthetic mixed-script text corpus",
        new("out", "FILE", "output file; required"),
        new("mb", "N", "size in megabytes", "4"),
        new("seed", "S", "random seed", "1"));

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0) throw new UsageException("tokenizer: name a subcommand (train, encode, decode, corpus)");
        var rest = args[1..];
        switch (args[0])
        {
            case "train": return Train(new Options(rest, TrainSpec), stdout);
            case "encode": return Encode(new Options(rest, EncodeSpec), stdout);
            case "decode": return Decode(new Options(rest, DecodeSpec), stdout);
            case "corpus":
            {
                var o = new Options(rest, CorpusSpec);
                string path = o.Required("out", "tokenizer corpus");
                if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } parent) Directory.CreateDirectory(parent);
                File.WriteAllText(path, SyntheticText.Generate(o.Int("mb", 4) * 1_000_000, (ulong)o.Int("seed", 1, 0)));
                stdout.WriteLine($"wrote {path}");
                return 0;
            }
            default: throw new UsageException($"tokenizer: unknown subcommand '{args[0]}' (known: train, encode, decode, corpus)");
        }
    }

    private static int Train(Options o, TextWriter stdout)
    {
        const string cmd = "tokenizer train";
        string input = o.Required("input", cmd), outDir = o.Required("out", cmd);
        int vocabSize = o.Int("vocab-size", 0, 1);
        if (vocabSize == 0) throw new UsageException($"{cmd}: --vocab-size is required");
        var style = (o.Value("style") ?? "llama3") switch
        {
            "llama3" => TokenizerStyle.Llama3,
            "qwen2" => TokenizerStyle.Qwen2,
            "gpt2" => TokenizerStyle.Gpt2,
            var s => throw new UsageException($"{cmd}: --style must be llama3, qwen2 or gpt2 (got '{s}')"),
        };
        if (!File.Exists(input)) throw new UsageException($"{cmd}: --input {input}: file not found");
        var specials = o.Values("special").Distinct().ToList();
        string? bos = o.Value("bos"), eos = o.Value("eos");
        foreach (var t in new[] { bos, eos }) if (t is not null && !specials.Contains(t)) specials.Add(t);
        int minimum = BpeTrainer.MinimumVocabSize(specials.Count);
        if (vocabSize < minimum)
            throw new UsageException($"{cmd}: --vocab-size {vocabSize} is too small: the minimum is {minimum} (256 byte tokens + {specials.Count} special token{(specials.Count == 1 ? "" : "s")}); merges are learned above it");

        var sw = Stopwatch.StartNew();
        var lines = ReadLinesKeepingNewlines(input);
        var tokenizer = BpeTrainer.Train(lines, new BpeTrainerOptions(vocabSize, specials, o.Int("min-frequency", 2), style, bos),
            Progress.Bar("training BPE", stdout));
        tokenizer.Save(outDir);
        string? chatTemplate = o.Value("chat-template") switch
        {
            null => null,
            var t when File.Exists(t) => File.ReadAllText(t),
            var t when AlignSharp.Models.ChatTemplates.BuiltInTemplates.Names.Contains(t, StringComparer.OrdinalIgnoreCase) => AlignSharp.Models.ChatTemplates.BuiltInTemplates.GetSource(t),
            var t => throw new UsageException($"{cmd}: --chat-template {t}: no such file, and not a built-in template ({string.Join(", ", AlignSharp.Models.ChatTemplates.BuiltInTemplates.Names)})"),
        };
        new TokenizerConfig { BosToken = bos, EosToken = eos, ModelMaxLength = 131072, ChatTemplate = chatTemplate }.Save(outDir, tokenizer);
        stdout.WriteLine($"trained {tokenizer.VocabSize} tokens ({tokenizer.Model.Merges.Count} merges) on {new FileInfo(input).Length / 1e6:F1} MB in {sw.Elapsed.TotalSeconds:F1} s → {outDir}");
        return 0;
    }

    /// <summary>Lines of the file with their line breaks, so the tokenizer learns newline tokens.</summary>
    internal static IEnumerable<string> ReadLinesKeepingNewlines(string path) => SplitLinesKeepingNewlines(File.ReadAllText(path));

    internal static IEnumerable<string> SplitLinesKeepingNewlines(string text)
    {
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            yield return text[start..end];
            start = end;
        }
    }

    private static int Encode(Options o, TextWriter stdout)
    {
        const string cmd = "tokenizer encode";
        var tokenizer = Tokenizer.Load(o.Required("tokenizer", cmd));
        bool special = !o.Flag("no-special-tokens");
        string? text = o.Value("text"), input = o.Value("input");
        if ((text is null) == (input is null)) throw new UsageException($"{cmd}: give exactly one of --text and --input");
        if (input is not null && !File.Exists(input)) throw new UsageException($"{cmd}: --input {input}: file not found");
        IEnumerable<string> lines = text is not null ? [text] : File.ReadLines(input!);
        var sb = new StringBuilder();
        foreach (var line in lines)
        {
            sb.Clear();
            foreach (int id in tokenizer.Encode(line, special)) sb.Append(sb.Length == 0 ? "" : " ").Append(id);
            stdout.WriteLine(sb.ToString());
        }
        return 0;
    }

    private static int Decode(Options o, TextWriter stdout)
    {
        const string cmd = "tokenizer decode";
        string path = o.Required("tokenizer", cmd);
        var tokenizer = Tokenizer.Load(path);
        var ids = ParseIds(o.Required("ids", cmd), cmd);
        foreach (int id in ids)
            if (id >= tokenizer.VocabSize || tokenizer.IdToToken(id) is null)
                throw new UsageException($"{cmd}: --ids: {id} is not a token id of {path} (its vocabulary has {tokenizer.VocabSize} tokens: ids 0-{tokenizer.VocabSize - 1}); " +
                    "use ids that `tokenizer encode` printed for this tokenizer");
        stdout.Write(tokenizer.Decode(ids, o.Flag("skip-special-tokens")));
        return 0;
    }

    internal static int[] ParseIds(string text, string cmd) =>
        text.Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, out int v) && v >= 0 ? v : throw new UsageException($"{cmd}: '{s}' is not a token id")).ToArray();
}
