using System.Text.RegularExpressions;

namespace AlignSharp.Models.Lora;

/// <summary>
/// LoRA options (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"), with PEFT's meanings.
/// </summary>
/// <param name="Rank">r: the rank of the update B·A.</param>
/// <param name="Alpha">lora_alpha: the update is scaled by alpha/r (alpha/√r with rsLoRA); a double, as PEFT keeps it.</param>
/// <param name="Dropout">Dropout on the adapter's input while training.</param>
/// <param name="TargetModules">Module names: a module matches when its full name equals one, or ends with "." + one
/// (PEFT's list form). Null with <paramref name="TargetRegex"/> unset targets every attention and MLP projection.</param>
/// <param name="TargetRegex">PEFT's string form: a regex that must match the whole module name.</param>
/// <param name="UseRsLora">Rank-stabilised scaling alpha/√r (Kalajdzievski 2023).</param>
public sealed record LoraConfig(int Rank = 8, double Alpha = 16, float Dropout = 0f, IReadOnlyList<string>? TargetModules = null,
    string? TargetRegex = null, bool UseRsLora = false)
{
    /// <summary>
    /// The factor s applied to B·A·x and in merges W' = W + s·B·A. As PEFT (0.18, tuners/lora/layer.py update_layer)
    /// it is computed in double (lora_alpha / r, or lora_alpha / math.sqrt(r)) and meets the float32 weights as float32.
    /// </summary>
    public float Scale => (float)(UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank);

    private static readonly string[] DefaultTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "c_attn", "c_proj", "c_fc"];

    /// <summary>Whether the module (e.g. "model.layers.0.self_attn.q_proj") is adapted.</summary>
    public bool Targets(string module)
    {
        if (TargetRegex is not null) return Regex.IsMatch(module, $"^(?:{TargetRegex})$");
        foreach (var t in TargetModules ?? DefaultTargets)
            if (module == t || module.EndsWith("." + t, StringComparison.Ordinal)) return true;
        return false;
    }
}
