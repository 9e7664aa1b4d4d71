using System.Text;
using System.Text.Json;
using AlignSharp.Feedback;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using AlignSharp.Training;
using AlignSharp.Training.Config;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;

namespace AlignSharp.Fuzz;

/// <summary>The parsers under test, with their seeds (the repository's own fixtures, examples and recipes).</summary>
public static class Targets
{
    const string Models = "tests/AlignSharp.Models.Tests/Fixtures";

    /// <summary>A conversation with an assistant turn, so rendering also runs the prefix-span renders.</summary>
    static readonly JsonElement Messages = JsonDocument.Parse(
        """[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"2+2?"}]""").RootElement.Clone();

    const string SampleText = "Hello world! <|im_end|> 123 héllo \u4f60\u597d  \t\n<|begin_of_text|>";

    public static readonly FuzzTarget[] All =
    [
        new("safetensors", "model.safetensors", [typeof(SafetensorsException)], JsonAware: true, TextAware: false,
            root => Files(root, $"{Models}/safetensors/mixed.safetensors", $"{Models}/models/*/model.safetensors").Concat(SafetensorsSeeds()).ToList(),
            ReadSafetensors),
        new("config", "config.json", [typeof(ModelFormatException)], JsonAware: true, TextAware: false,
            root => Files(root, $"{Models}/models/*/config.json"),
            path => ModelConfig.FromJson(File.ReadAllText(path), path).Validate(path)),
        new("tokenizer", "tokenizer.json", [typeof(TokenizerException)], JsonAware: true, TextAware: false,
            root => Files(root, $"{Models}/tokenizers/*/tokenizer.json", "tests/AlignSharp.Training.Tests/Fixtures/tokenizers/*/tokenizer.json"),
            UseTokenizer),
        new("tokenizer_config", "tokenizer_config.json", [typeof(TokenizerException), typeof(TemplateException)], JsonAware: true, TextAware: true,
            root => Files(root, $"{Models}/tokenizers/*/tokenizer_config.json", "tests/AlignSharp.Training.Tests/Fixtures/tokenizers/*/tokenizer_config.json"),
            UseTokenizerConfig),
        new("chat_template", "template.jinja", [typeof(TemplateException)], JsonAware: false, TextAware: true,
            root => Files(root, "tools/fixtures/chat_templates/templates/*.jinja").Concat(TemplateSeeds()).ToList(),
            path => RenderTemplate(File.ReadAllText(path), path, null)),
        new("jsonl", "train.jsonl", [typeof(TrainingException)], JsonAware: true, TextAware: false,
            root => Files(root, "examples/data/*.jsonl", "tests/AlignSharp.Training.Tests/Fixtures/data/*.jsonl"),
            ReadJsonl),
        new("recipe", "recipe.yaml", [typeof(TrainingException)], JsonAware: false, TextAware: true,
            root => Files(root, "recipes/*.yaml").Where(b => !Encoding.UTF8.GetString(b).Contains("principles:")).Concat(YamlSeeds()).ToList(),
            path => ConfigBinder.Bind(new TrainingArguments(), RecipeFile.Read(path, [])).Validate()),
        new("constitution", "constitution.yaml", [typeof(FeedbackException)], JsonAware: false, TextAware: true,
            root => Files(root, "recipes/constitution.yaml").Concat(YamlSeeds()).ToList(),
            path => Constitution.Load(path, AlignSharp.Alignment.Environments.DemoWorld.WorldChecks.All)),
    ];

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"--parser: unknown parser '{name}' (known: all, {string.Join(", ", All.Select(t => t.Name))})");

    static void ReadSafetensors(string path)
    {
        using var file = SafetensorsFile.Open(path);
        foreach (var (name, info) in file.Tensors)
        {
            if (info.ElementCount > 1 << 20) continue;
            file.ReadFloat32(name);
            file.CopyBytes(name, new byte[info.ByteLength]);
        }
    }

    static void UseTokenizer(string path)
    {
        var tokenizer = Tokenizer.Load(path);
        var ids = tokenizer.Encode(SampleText);
        tokenizer.Decode(ids);
        tokenizer.Decode(ids, skipSpecialTokens: true);
        tokenizer.EncodeWithOffsets(SampleText, addSpecialTokens: false);
        tokenizer.Decode([0, 1, tokenizer.VocabSize - 1]);
    }

    static void UseTokenizerConfig(string path)
    {
        var config = TokenizerConfig.Load(path);
        foreach (var (name, source) in config.NamedChatTemplates) RenderTemplate(source, $"{path} chat_template '{name}'", config);
        if (config.ChatTemplate is { } template) RenderTemplate(template, $"{path} chat_template", config);
    }

    static void RenderTemplate(string source, string origin, TokenizerConfig? config)
    {
        var template = ChatTemplate.Parse(source, origin);
        template.Render(Messages, new ChatTemplateOptions { AddGenerationPrompt = true, BosToken = config?.BosToken ?? "<s>", EosToken = config?.EosToken ?? "</s>" });
    }

    static void ReadJsonl(string path)
    {
        new JsonlDataset(path).ToList();
        new JsonlDataset(path, skipBadRows: true).ToList();
    }

    /// <summary>Hand-written seeds for shapes the fixtures lack.</summary>
    static IEnumerable<byte[]> SafetensorsSeeds()
    {
        static byte[] File(string header, int dataBytes)
        {
            var json = Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + json.Length + dataBytes];
            BitConverter.GetBytes((long)json.Length).CopyTo(bytes, 0);
            json.CopyTo(bytes, 8);
            return bytes;
        }
        yield return File("""{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}""", 16);
        yield return File("""{"x":{"dtype":"BF16","shape":[],"data_offsets":[0,2]},"y":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[2,5]}}""", 5);
        yield return File("{}", 0);
    }

    static IEnumerable<byte[]> TemplateSeeds() => new[]
    {
        "{% for m in messages %}{{ m.role ~ ': ' ~ m.content | trim }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}",
        "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}x{% endmacro %}{{ f(3) }}",
        "{% set ns = namespace(a=0) %}{% for i in range(5) %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}{{ messages | tojson(indent=2) }}",
        "{{ 'ab' * 3 }}{{ [1, 2] * 2 }}{{ messages[-1]['content'][::-1] }}{{ '%s-%d' % ('a', 1) }}{{ raise_exception('no') if false }}",
        "{% call(x) caller_test() %}{{ x }}{% endcall %}{% filter upper %}{{ bos_token }}{% endfilter %}{% generation %}{{ eos_token }}{% endgeneration %}",
    }.Select(Encoding.UTF8.GetBytes);

    static IEnumerable<byte[]> YamlSeeds() => new[]
    {
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        "name: &n demo\nprinciples: &p\n  - id: *n\n    text: t\n    check: refuse_harmful\n    weight: 1e308\n    applies_to: [harmful, *n]\n",
        "model: runs/tiny\ndataset: d.jsonl\nlearning_rate: 1e-3\nnum_train_epochs: 99999999999\nseed: -1\nlora_target_modules: [q_proj, v_proj]\n",
        "? [a, b]\n: c\n!!binary x: y\n<<: {a: 1}\n--- \n...\n",
    }.Select(Encoding.UTF8.GetBytes);

    /// <summary>Files matching repository-relative patterns (one '*' in a folder or file name).</summary>
    static List<byte[]> Files(string root, params string[] patterns)
    {
        var result = new List<byte[]>();
        foreach (var pattern in patterns)
        {
            string full = Path.Combine(root, pattern);
            string dir = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
            IEnumerable<string> dirs = dir.Contains('*')
                ? Directory.Exists(Path.GetDirectoryName(dir)) ? Directory.GetDirectories(Path.GetDirectoryName(dir)!, Path.GetFileName(dir)) : []
                : [dir];
            foreach (var d in dirs.Order(StringComparer.Ordinal))
                if (Directory.Exists(d))
                    foreach (var f in Directory.GetFiles(d, name).Order(StringComparer.Ordinal)) result.Add(File.ReadAllBytes(f));
        }
        return result;
    }
}
