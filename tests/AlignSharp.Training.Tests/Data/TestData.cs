using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Tests.Data;

/// <summary>Fixture paths and the two tokenizers the data tests use: Qwen2 + ChatML and Llama-3 + its template.</summary>
internal static class TestData
{
    public static string File(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "data", name);

    public static string TokenizerFolder(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", name);

    /// <summary>Qwen2 fixture tokenizer (eos &lt;|im_end|&gt;, no BOS) with the built-in ChatML template.</summary>
    public static ExampleTokenizer Qwen() => ExampleTokenizer.FromFolder(TokenizerFolder("qwen2"), BuiltInTemplates.Get("chatml"));

    /// <summary>Llama-3 fixture tokenizer (BOS &lt;|begin_of_text|&gt;, eos &lt;|eot_id|&gt;) with the built-in Llama-3 template.</summary>
    public static ExampleTokenizer Llama() => ExampleTokenizer.FromFolder(TokenizerFolder("llama3"), BuiltInTemplates.Get("llama3"));

    /// <summary>The repository root (for examples/data).</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "AlignSharp.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("AlignSharp.sln not found above the test output folder");
    }

    /// <summary>Writes <paramref name="lines"/> to a fresh temp .jsonl file.</summary>
    public static string TempJsonl(params string[] lines)
    {
        string path = Path.Combine(Path.GetTempPath(), $"alignsharp-data-{Guid.NewGuid():N}.jsonl");
        System.IO.File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    /// <summary>Decodes the tokens whose label is not −100.</summary>
    public static string DecodeLabeled(Tokenizer tokenizer, int[] labels) =>
        tokenizer.Decode(labels.Where(l => l != AlignSharp.Tensors.Ops.IgnoreIndex).ToArray());
}
