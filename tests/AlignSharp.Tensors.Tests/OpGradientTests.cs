using AlignSharp.Tensors;
using static AlignSharp.Tensors.Tests.GradCheck;

namespace AlignSharp.Tensors.Tests;

/// <summary>Every op's backward rule against finite differences, on seeded random shapes.</summary>
public class OpGradientTests
{
    public static TheoryData<int> Seeds => new() { 1, 2, 3 };

    private static Tensor AwayFromZero(Rng rng, float margin, params int[] shape)
    {
        var t = Rand(rng, shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = MathF.Sign(s[i] == 0 ? 1 : s[i]) * (margin + MathF.Abs(s[i]));
        return t;
    }

    private static Tensor Positive(Rng rng, params int[] shape) => Ops.AddScalar(Ops.Abs(Rand(rng, shape)), 0.5f);

    [Theory, MemberData(nameof(Seeds))]
    public void Broadcasting_arithmetic(int seed)
    {
        var rng = new Rng((ulong)seed);
        var shape = RandomShape(rng, 3, 2, 4);
        int[][] others = [shape, [shape[2]], [shape[1], 1], [1, shape[1], 1], [], [shape[0], 1, shape[2]]];
        foreach (var other in others)
        {
            Check($"add {string.Join(",", other)}", x => x[0] + x[1], [Rand(rng, shape), Rand(rng, other)], seed);
            Check($"sub {string.Join(",", other)}", x => x[1] - x[0], [Rand(rng, shape), Rand(rng, other)], seed);
            Check($"mul {string.Join(",", other)}", x => x[0] * x[1], [Rand(rng, other), Rand(rng, shape)], seed);
            Check($"div {string.Join(",", other)}", x => x[0] / x[1], [Rand(rng, shape), Positive(rng, other)], seed);
            Check($"div-rev {string.Join(",", other)}", x => x[0] / x[1], [Rand(rng, other), Positive(rng, shape)], seed);
        }
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Scale_and_add_scalar(int seed)
    {
        var rng = new Rng((ulong)seed);
        Check("scale", x => x[0] * 2.5f, [Rand(rng, RandomShape(rng, 2))], seed);
        Check("add_scalar", x => x[0] - 0.75f, [Rand(rng, RandomShape(rng, 2))], seed);
        Check("neg", x => -x[0], [Rand(rng, RandomShape(rng, 3))], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Unary_ops(int seed)
    {
        var rng = new Rng((ulong)seed);
        var s = RandomShape(rng, 2, 2, 6);
        Check("exp", x => Ops.Exp(x[0]), [Rand(rng, s)], seed);
        Check("log", x => Ops.Log(x[0]), [Positive(rng, s)], seed);
        Check("sigmoid", x => Ops.Sigmoid(x[0] * 3f), [Rand(rng, s)], seed);
        Check("logsigmoid", x => Ops.LogSigmoid(x[0] * 4f), [Rand(rng, s)], seed);
        Check("softplus", x => Ops.Softplus(x[0] * 4f), [Rand(rng, s)], seed);
        Check("tanh", x => Ops.Tanh(x[0]), [Rand(rng, s)], seed);
        Check("relu", x => Ops.Relu(x[0]), [AwayFromZero(rng, 0.05f, s)], seed);
        Check("silu", x => Ops.Silu(x[0] * 3f), [Rand(rng, s)], seed);
        Check("gelu", x => Ops.Gelu(x[0] * 3f), [Rand(rng, s)], seed);
        Check("sqrt", x => Ops.Sqrt(x[0]), [Positive(rng, s)], seed);
        Check("square", x => Ops.Square(x[0]), [Rand(rng, s)], seed);
        Check("abs", x => Ops.Abs(x[0]), [AwayFromZero(rng, 0.05f, s)], seed);
        // Clamp bounds at ±0.5: keep inputs away from them so the step never crosses a kink.
        var c = Rand(rng, s); var cs = c.Span;
        for (int i = 0; i < cs.Length; i++) if (MathF.Abs(MathF.Abs(cs[i]) - 0.5f) < 0.05f) cs[i] += 0.1f;
        Check("clamp", x => Ops.Clamp(x[0], -0.5f, 0.5f), [c], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Matmul_linear_and_transposed_views(int seed)
    {
        var rng = new Rng((ulong)seed);
        int b = 1 + rng.NextInt(3), m = 1 + rng.NextInt(5), k = 1 + rng.NextInt(6), n = 1 + rng.NextInt(5);
        Check("matmul 2d", x => Ops.MatMul(x[0], x[1]), [Rand(rng, m, k), Rand(rng, k, n)], seed);
        Check("matmul shared b", x => Ops.MatMul(x[0], x[1]), [Rand(rng, b, m, k), Rand(rng, k, n)], seed);
        Check("matmul batched", x => Ops.MatMul(x[0], x[1]), [Rand(rng, b, m, k), Rand(rng, b, k, n)], seed);
        Check("matmul aT", x => Ops.MatMul(x[0].T(), x[1]), [Rand(rng, b, k, m), Rand(rng, b, k, n)], seed);
        Check("matmul bT", x => Ops.MatMul(x[0], x[1].T()), [Rand(rng, b, m, k), Rand(rng, b, n, k)], seed);
        Check("matmul aT bT shared", x => Ops.MatMul(x[0].T(), x[1].T()), [Rand(rng, b, k, m), Rand(rng, n, k)], seed);
        Check("linear", x => Ops.Linear(x[0], x[1], x[2]), [Rand(rng, b, m, k), Rand(rng, n, k), Rand(rng, n)], seed);
        Check("linear no bias", x => Ops.Linear(x[0], x[1]), [Rand(rng, m, k), Rand(rng, n, k)], seed);
        Check("contiguous of T", x => Ops.Square(x[0].T()), [Rand(rng, b, m, k)], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Embedding_scatter_adds_repeated_ids(int seed)
    {
        var rng = new Rng((ulong)seed);
        int v = 3 + rng.NextInt(5), c = 1 + rng.NextInt(6);
        var ids = Enumerable.Range(0, 7).Select(_ => rng.NextInt(v)).ToArray();
        ids[3] = ids[1];
        Check("embedding", x => Ops.Embedding(x[0], ids, 7), [Rand(rng, v, c)], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Norms(int seed)
    {
        var rng = new Rng((ulong)seed);
        var s = RandomShape(rng, 3, 1, 4);
        s[2] = 2 + rng.NextInt(7);
        Check("rms_norm", x => Ops.RmsNorm(x[0], x[1], 1e-5f), [Rand(rng, s), Rand(rng, s[2])], seed);
        Check("layer_norm", x => Ops.LayerNorm(x[0], x[1], x[2], 1e-5f), [Rand(rng, s), Rand(rng, s[2]), Rand(rng, s[2])], seed);
        Check("layer_norm no bias", x => Ops.LayerNorm(x[0], x[1], null, 1e-5f), [Rand(rng, s), Rand(rng, s[2])], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Rope(int seed)
    {
        var rng = new Rng((ulong)seed);
        int b = 1 + rng.NextInt(2), t = 1 + rng.NextInt(4), h = 1 + rng.NextInt(3), d = 2 * (1 + rng.NextInt(4));
        var table = new RopeTable(d, 32, 10000f);
        Check("rope", x => Ops.Rope(x[0], table), [Rand(rng, b, t, h, d)], seed);
        Check("rope offset", x => Ops.Rope(x[0], table, positionOffset: 5), [Rand(rng, b, t, h, d)], seed);
        var positions = Enumerable.Range(0, b * t).Select(_ => rng.NextInt(32)).ToArray();
        Check("rope positions", x => Ops.Rope(x[0], table, positions: positions), [Rand(rng, b, t, h, d)], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Softmax_and_log_softmax(int seed)
    {
        var rng = new Rng((ulong)seed);
        var s = RandomShape(rng, 3, 1, 6);
        Check("softmax", x => Ops.Softmax(x[0] * 3f), [Rand(rng, s)], seed);
        Check("log_softmax", x => Ops.LogSoftmax(x[0] * 3f), [Rand(rng, s)], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Attention_mha_gqa_masks_and_offsets(int seed)
    {
        var rng = new Rng((ulong)seed);
        int b = 1 + rng.NextInt(2), t = 2 + rng.NextInt(4), kvh = 1 + rng.NextInt(2), group = 1 + rng.NextInt(3), d = 2 + rng.NextInt(5);
        int h = kvh * group;
        Check("attention causal", x => Ops.ScaledDotProductAttention(x[0], x[1], x[2]),
            [Rand(rng, b, t, h, d), Rand(rng, b, t, kvh, d), Rand(rng, b, t, kvh, d)], seed);
        Check("attention full", x => Ops.ScaledDotProductAttention(x[0], x[1], x[2], causal: false, scale: 0.7f),
            [Rand(rng, b, t, h, d), Rand(rng, b, t, kvh, d), Rand(rng, b, t, kvh, d)], seed);
        // Left padding: the first key of batch row 0 is masked (its first query then sees no key and outputs zeros).
        var mask = Tensor.Ones(b, t);
        mask.Span[0] = 0f;
        Check("attention masked", x => Ops.ScaledDotProductAttention(x[0], x[1], x[2], mask),
            [Rand(rng, b, t, h, d), Rand(rng, b, t, kvh, d), Rand(rng, b, t, kvh, d)], seed);
        int tq = 1 + rng.NextInt(t);
        Check("attention kv offset", x => Ops.ScaledDotProductAttention(x[0], x[1], x[2]),
            [Rand(rng, b, tq, h, d), Rand(rng, b, t, kvh, d), Rand(rng, b, t, kvh, d)], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Cross_entropy_and_token_logprobs(int seed)
    {
        var rng = new Rng((ulong)seed);
        int n = 2 + rng.NextInt(5), v = 2 + rng.NextInt(7);
        var labels = Enumerable.Range(0, n).Select(_ => rng.NextInt(v)).ToArray();
        labels[1] = Ops.IgnoreIndex;
        Check("cross_entropy", x => Ops.CrossEntropy(x[0] * 2f, labels), [Rand(rng, n, v)], seed);
        Check("cross_entropy 3d", x => Ops.CrossEntropy(x[0], labels), [Rand(rng, 1, n, v)], seed);
        Check("token_logprobs", x => Ops.TokenLogProbs(x[0] * 2f, labels), [Rand(rng, n, v)], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Reductions(int seed)
    {
        var rng = new Rng((ulong)seed);
        var s = RandomShape(rng, 3, 1, 5);
        var mask = Tensor.Zeros(s);
        var ms = mask.Span;
        for (int i = 0; i < ms.Length; i++) ms[i] = rng.NextDouble() < 0.6 ? 1f : 0f;
        Check("sum", x => Ops.Sum(x[0]), [Rand(rng, s)], seed);
        Check("mean", x => Ops.Mean(x[0]), [Rand(rng, s)], seed);
        Check("sum_last_axis", x => Ops.SumLastAxis(x[0]), [Rand(rng, s)], seed);
        Check("mean_last_axis", x => Ops.MeanLastAxis(x[0]), [Rand(rng, s)], seed);
        Check("masked_sum", x => Ops.MaskedSum(x[0], mask), [Rand(rng, s)], seed);
        Check("masked_mean", x => Ops.MaskedMean(x[0], mask), [Rand(rng, s)], seed);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Shape_ops_and_views(int seed)
    {
        var rng = new Rng((ulong)seed);
        var s = RandomShape(rng, 3, 2, 4);
        var s2 = (int[])s.Clone(); s2[1] += 1;
        Check("concat axis1", x => Ops.Concat([x[0], x[1]], 1), [Rand(rng, s), Rand(rng, s2)], seed);
        Check("concat axis-1", x => Ops.Concat([x[0], x[0] * 2f], -1), [Rand(rng, s)], seed);
        Check("narrow", x => Ops.Narrow(x[0], 2, 1, s[2] - 1), [Rand(rng, s)], seed);
        Check("transpose", x => Ops.Transpose(x[0], 0, 2), [Rand(rng, s)], seed);
        Check("reshape", x => Ops.Square(x[0].Reshape(-1, s[2])), [Rand(rng, s)], seed);
        Check("slice", x => Ops.Square(x[0].Slice(1, s[0] - 1)), [Rand(rng, s)], seed);
        Check("select", x => Ops.Exp(x[0].Select(1)), [Rand(rng, s)], seed);
        Check("swiglu", x => Ops.SwiGlu(x[0] * 2f, x[1]), [Rand(rng, s), Rand(rng, s)], seed);
    }
}
