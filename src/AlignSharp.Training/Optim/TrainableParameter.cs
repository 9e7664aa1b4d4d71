using AlignSharp.Tensors;

namespace AlignSharp.Training.Optim;

/// <summary>A parameter the optimizer updates: its name (for checkpoints), the tensor, and whether weight decay applies.</summary>
public sealed record TrainableParameter(string Name, Tensor Tensor, bool Decay)
{
    /// <summary>
    /// The default decay rule: matrices decay; norms, biases and embedding tables (1-D tensors and names with
    /// "embed", "wte", "wpe") do not.
    /// </summary>
    public static bool DefaultDecay(string name, Tensor t) =>
        t.Rank >= 2 && !name.Contains("embed") && !name.Contains(".wte.") && !name.Contains(".wpe.") && !name.Contains("norm") && !name.Contains(".ln_");
}
