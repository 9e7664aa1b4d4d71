using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>Argument checks, constant tensors and formulas shared by the alignment losses.</summary>
internal static class LossHelpers
{
    /// <summary>The batch size B that every [B] input shares; throws naming the first input that disagrees.</summary>
    public static int BatchSize(string loss, params (string Name, Tensor Value)[] inputs)
    {
        int b = -1;
        foreach (var (name, value) in inputs)
        {
            if (value.Rank != 1)
                throw new ArgumentException($"{loss}: {name} must be a [B] tensor of per-sequence values, got shape [{string.Join(", ", value.Shape.ToArray())}] (reshape [B, 1] scores with Reshape(B))", name);
            if (b < 0) b = value.Length;
            else if (value.Length != b)
                throw new ArgumentException($"{loss}: {name} has {value.Length} entries but {inputs[0].Name} has {b}; every input must cover the same batch", name);
        }
        if (b == 0) throw new ArgumentException($"{loss}: the batch is empty");
        return b;
    }

    public static void RequireLength(string loss, string name, int length, int batch)
    {
        if (length != batch) throw new ArgumentException($"{loss}: {name} has {length} entries for a batch of {batch}", name);
    }

    /// <summary>Checks completion token counts (each at least 1) and returns them as floats.</summary>
    public static float[] TokenCounts(string loss, string name, ReadOnlySpan<int> counts, int batch)
    {
        RequireLength(loss, name, counts.Length, batch);
        var result = new float[batch];
        for (int i = 0; i < batch; i++)
        {
            if (counts[i] < 1) throw new ArgumentException($"{loss}: {name}[{i}] is {counts[i]}; a completion needs at least one token", name);
            result[i] = counts[i];
        }
        return result;
    }

    /// <summary>A [B] tensor with no gradient history (reference log-probs, per-example signs and weights).</summary>
    public static Tensor Constant(float[] values) => Tensor.FromArray(values, values.Length);

    public static float Mean(ReadOnlySpan<float> values)
    {
        if (values.Length == 0) return 0f;
        double sum = 0;
        foreach (var v in values) sum += v;
        return (float)(sum / values.Length);
    }

    /// <summary>The TRL reward metrics shared by the pairwise losses, from per-pair implicit rewards.</summary>
    public static void AddRewardMetrics(Dictionary<string, float> metrics, ReadOnlySpan<float> chosenRewards, ReadOnlySpan<float> rejectedRewards)
    {
        int b = chosenRewards.Length, wins = 0;
        double margin = 0;
        for (int i = 0; i < b; i++)
        {
            if (chosenRewards[i] > rejectedRewards[i]) wins++;
            margin += (double)chosenRewards[i] - rejectedRewards[i];
        }
        metrics["rewards/chosen"] = Mean(chosenRewards);
        metrics["rewards/rejected"] = Mean(rejectedRewards);
        metrics["rewards/accuracies"] = (float)wins / b;
        metrics["rewards/margins"] = (float)(margin / b);
    }

    public static void RequirePositive(string loss, string option, float value)
    {
        if (!(value > 0f) || float.IsInfinity(value)) throw new ArgumentOutOfRangeException(option, $"{loss}: {option} must be a positive finite number, got {value}");
    }

    public static void RequireLabelSmoothing(string loss, float value)
    {
        if (!(value >= 0f && value <= 0.5f)) throw new ArgumentOutOfRangeException("LabelSmoothing", $"{loss}: LabelSmoothing must be in [0, 0.5], got {value}");
    }

    /// <summary>−(1−ε) log σ(z) − ε log σ(−z), per element; the conservative-DPO loss (also SimPO's).</summary>
    public static Tensor SmoothedSigmoidLoss(Tensor z, float epsilon)
    {
        var loss = Ops.Scale(Ops.LogSigmoid(z), -(1f - epsilon));
        return epsilon == 0f ? loss : Ops.Add(loss, Ops.Scale(Ops.LogSigmoid(Ops.Neg(z)), -epsilon));
    }

    /// <summary>Reference-free methods' metrics: rewards β·ā (chosen/rejected, accuracies, margins) and the mean log-probs ā.</summary>
    public static Dictionary<string, float> ScaledRewardMetrics(float beta, Tensor chosenAverageLogps, Tensor rejectedAverageLogps)
    {
        float[] chosen = chosenAverageLogps.ToArray(), rejected = rejectedAverageLogps.ToArray();
        var chosenRewards = chosen.Select(x => beta * x).ToArray();
        var rejectedRewards = rejected.Select(x => beta * x).ToArray();
        var metrics = new Dictionary<string, float>();
        AddRewardMetrics(metrics, chosenRewards, rejectedRewards);
        metrics["logps/chosen"] = Mean(chosen);
        metrics["logps/rejected"] = Mean(rejected);
        return metrics;
    }
}
