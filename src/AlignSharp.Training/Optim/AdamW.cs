using System.Numerics.Tensors;

namespace AlignSharp.Training.Optim;

/// <summary>AdamW options (Loshchilov &amp; Hutter 2019), PyTorch's defaults except the learning rate, which the schedule supplies.</summary>
public sealed record AdamWOptions(float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f, float WeightDecay = 0f);

/// <summary>
/// AdamW with decoupled weight decay, as torch.optim.AdamW computes it:
/// p ← p·(1 − lr·wd) (decaying parameters only); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).
/// Every element updates independently, so the parallel split cannot change the result.
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly AdamWOptions _options;
    private readonly float[][] _m, _v;

    public AdamW(IReadOnlyList<TrainableParameter> parameters, AdamWOptions? options = null) : base(parameters)
    {
        _options = options ?? new AdamWOptions();
        _m = parameters.Select(p => new float[p.Tensor.Length]).ToArray();
        _v = parameters.Select(p => new float[p.Tensor.Length]).ToArray();
    }

    public override void Step(float lr)
    {
        Steps++;
        var o = _options;
        float bc1 = 1f - MathF.Pow(o.Beta1, Steps), bc2 = 1f - MathF.Pow(o.Beta2, Steps);
        float stepSize = lr / bc1, invSqrtBc2 = 1f / MathF.Sqrt(bc2);
        ForEachChunk((i, start, end) =>
        {
            var p = Parameters[i];
            var w = p.Tensor.Span[start..end];
            var g = p.Tensor.Grad!.Span[start..end];
            var m = _m[i].AsSpan(start, end - start);
            var v = _v[i].AsSpan(start, end - start);
            if (p.Decay && o.WeightDecay != 0f) TensorPrimitives.Multiply(w, 1f - lr * o.WeightDecay, w);
            for (int j = 0; j < w.Length; j++)
            {
                float gj = g[j];
                float mj = m[j] = o.Beta1 * m[j] + (1f - o.Beta1) * gj;
                float vj = v[j] = o.Beta2 * v[j] + (1f - o.Beta2) * gj * gj;
                w[j] -= stepSize * mj / (MathF.Sqrt(vj) * invSqrtBc2 + o.Epsilon);
            }
        });
    }

    protected override IEnumerable<(string Name, float[] Values)> State()
    {
        for (int i = 0; i < Parameters.Count; i++)
        {
            yield return ("exp_avg." + Parameters[i].Name, _m[i]);
            yield return ("exp_avg_sq." + Parameters[i].Name, _v[i]);
        }
    }
}

/// <summary>Plain SGD with optional momentum (PyTorch's form: b ← μb + g; p ← p − lr·b) and decoupled weight decay.</summary>
public sealed class Sgd(IReadOnlyList<TrainableParameter> parameters, float momentum = 0f, float weightDecay = 0f) : Optimizer(parameters)
{
    private readonly float[][] _buffer = parameters.Select(p => new float[momentum == 0 ? 0 : p.Tensor.Length]).ToArray();

    public override void Step(float lr)
    {
        Steps++;
        ForEachChunk((i, start, end) =>
        {
            var p = Parameters[i];
            var w = p.Tensor.Span[start..end];
            var g = p.Tensor.Grad!.Span[start..end];
            if (p.Decay && weightDecay != 0f) TensorPrimitives.Multiply(w, 1f - lr * weightDecay, w);
            if (momentum == 0f) { TensorPrimitives.MultiplyAdd(g, -lr, w, w); return; }
            var b = _buffer[i].AsSpan(start, end - start);
            TensorPrimitives.MultiplyAdd(b, momentum, g, b);
            TensorPrimitives.MultiplyAdd(b, -lr, w, w);
        });
    }

    protected override IEnumerable<(string Name, float[] Values)> State()
    {
        if (momentum == 0f) yield break;
        for (int i = 0; i < Parameters.Count; i++) yield return ("momentum_buffer." + Parameters[i].Name, _buffer[i]);
    }
}
