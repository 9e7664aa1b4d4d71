namespace AlignSharp.Models.Transformers;

/// <summary>Named configurations for `model init`: the benchmark models and tiny ones for tests and the demo.</summary>
public static class ModelPresets
{
    private static readonly Dictionary<string, Func<Architecture, ModelConfig>> Presets = new(StringComparer.OrdinalIgnoreCase)
    {
        // llama2.c's comparison config for `bench decode`: dim 384, hidden 1024, 6 layers, 6 heads, vocab 8192.
        ["bench-decode"] = arch => Make(arch, vocab: 8192, hidden: 384, intermediate: 1024, layers: 6, heads: 6, kvHeads: 6, context: 1024),
        // The "bench-small" GPT-2 of `bench train`: V 8192, context 256, 6 layers, 6 heads, width 384.
        ["bench-small"] = arch => Make(arch, vocab: 8192, hidden: 384, intermediate: 4 * 384, layers: 6, heads: 6, kvHeads: 6, context: 256),
        ["tiny"] = arch => Make(arch, vocab: 512, hidden: 64, intermediate: 160, layers: 2, heads: 4, kvHeads: arch == Architecture.Gpt2 ? 4 : 2, context: 256),
        ["small"] = arch => Make(arch, vocab: 4096, hidden: 256, intermediate: 640, layers: 4, heads: 8, kvHeads: arch == Architecture.Gpt2 ? 8 : 4, context: 512),
    };

    public static IReadOnlyCollection<string> Names => Presets.Keys;

    public static ModelConfig Get(string name, Architecture architecture) =>
        Presets.TryGetValue(name, out var make) ? make(architecture)
            : throw new ArgumentException($"unknown preset '{name}' (known: {string.Join(", ", Presets.Keys)})");

    private static ModelConfig Make(Architecture arch, int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int context) => new()
    {
        Architecture = arch,
        VocabSize = vocab, HiddenSize = hidden, IntermediateSize = intermediate, NumLayers = layers,
        NumHeads = heads, NumKvHeads = kvHeads, HeadDim = hidden / heads, MaxPositions = context,
        NormEps = arch == Architecture.Gpt2 ? 1e-5f : 1e-6f,
        TieWordEmbeddings = arch != Architecture.Llama,
        RopeTheta = arch == Architecture.Qwen2 ? 1_000_000f : 10_000f,
    };
}
