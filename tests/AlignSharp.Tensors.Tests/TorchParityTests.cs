using System.Text.Json;
using AlignSharp.Tensors;

namespace AlignSharp.Tensors.Tests;

/// <summary>
/// Outputs and input gradients of the composite ops against PyTorch (float64 reference on the same
/// float32 inputs). Fixtures come from tools/fixtures/gen_tensor_fixtures.py.
/// </summary>
public class TorchParityTests
{
    private static readonly Lazy<JsonElement> Cases = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tensor_ops.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("cases");
    });

    private sealed record Fixture(JsonElement Json)
    {
        public Tensor Input(string name) => Load(Json.GetProperty("inputs").GetProperty(name));
        public int[] Ints(string name) => Flatten(Json.GetProperty("ints").GetProperty(name)).Select(e => e.GetInt32()).ToArray();
        public float Param(string name) => Json.GetProperty("params").GetProperty(name).GetSingle();
        public JsonElement Output => Json.GetProperty("output");
        public JsonElement GradOut => Json.GetProperty("grad_out");
        public JsonElement Grad(string name) => Json.GetProperty("grads").GetProperty(name);
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flatten) : [e];

    private static Tensor Load(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        return Tensor.FromArray(data, shape);
    }

    /// <summary>Runs op on the fixture's inputs (as parameters), backpropagates grad_out, compares output and the named gradients.</summary>
    private static void Run(string name, string[] gradInputs, Func<Fixture, Dictionary<string, Tensor>, Tensor> op, double tol = 1e-4)
    {
        var fx = new Fixture(Cases.Value.GetProperty(name));
        var leaves = gradInputs.ToDictionary(n => n, n => Tensor.Parameter(fx.Input(n)));
        var y = op(fx, leaves);
        AssertClose($"{name} output", Load(fx.Output), y, tol);
        Ops.Sum(Ops.Mul(y, Load(fx.GradOut))).Backward();
        foreach (var n in gradInputs) AssertClose($"{name} d{n}", Load(fx.Grad(n)), leaves[n].Grad!, tol);
    }

    private static void AssertClose(string what, Tensor expected, Tensor actual, double tol)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        var e = expected.ToArray(); var a = actual.ToArray();
        double scale = Math.Max(1.0, e.Max(v => Math.Abs((double)v)));
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tol * scale, $"{what}[{i}]: expected {e[i]:G7}, got {a[i]:G7}");
    }

    [Theory]
    [InlineData("attention_gqa_padding")]
    [InlineData("attention_mha_kv_offset")]
    [InlineData("attention_full_scaled")]
    [InlineData("attention_multi_tile_padding")]
    [InlineData("attention_multi_tile_offset")]
    public void Attention(string name)
    {
        var fx = new Fixture(Cases.Value.GetProperty(name));
        bool causal = name != "attention_full_scaled";
        float? scale = causal ? null : 0.3f;
        var mask = name.EndsWith("padding") ? fx.Input("key_mask") : null;
        Run(name, ["q", "k", "v"], (_, x) => Ops.ScaledDotProductAttention(x["q"], x["k"], x["v"], mask, causal, scale));
    }

    [Fact] public void RmsNorm() => Run("rms_norm", ["x", "w"], (f, x) => Ops.RmsNorm(x["x"], x["w"], f.Param("eps")));

    [Fact] public void LayerNorm() => Run("layer_norm", ["x", "w", "bias"], (f, x) => Ops.LayerNorm(x["x"], x["w"], x["bias"], f.Param("eps")));

    [Fact] public void CrossEntropy() => Run("cross_entropy", ["logits"], (f, x) => Ops.CrossEntropy(x["logits"], f.Ints("targets")));

    [Fact] public void TokenLogProbs() => Run("token_logprobs", ["logits"], (f, x) => Ops.TokenLogProbs(x["logits"], f.Ints("labels")));

    [Fact]
    public void RopeWithOffset()
    {
        Run("rope_offset", ["x"], (f, x) => Ops.Rope(x["x"], new RopeTable(16, 64, f.Param("theta")), positionOffset: (int)f.Param("offset")));
    }

    [Fact]
    public void RopeWithPositions()
    {
        Run("rope_positions", ["x"], (f, x) => Ops.Rope(x["x"], new RopeTable(32, 2048, f.Param("theta")), positions: f.Ints("positions")));
    }

    [Fact] public void Softmax() => Run("softmax", ["x"], (_, x) => Ops.Softmax(x["x"]));
    [Fact] public void LogSoftmax() => Run("log_softmax", ["x"], (_, x) => Ops.LogSoftmax(x["x"]));
    [Fact] public void GeluTanh() => Run("gelu_tanh", ["x"], (_, x) => Ops.Gelu(x["x"]));
    [Fact] public void Silu() => Run("silu", ["x"], (_, x) => Ops.Silu(x["x"]));
    [Fact] public void SwiGlu() => Run("swiglu", ["gate", "up"], (_, x) => Ops.SwiGlu(x["gate"], x["up"]));
    [Fact] public void LogSigmoid() => Run("logsigmoid", ["x"], (_, x) => Ops.LogSigmoid(x["x"]));
    [Fact] public void Linear() => Run("linear", ["x", "w", "bias"], (_, x) => Ops.Linear(x["x"], x["w"], x["bias"]));
    [Fact] public void MatMulTransposed() => Run("matmul_batched_bT", ["a", "b"], (_, x) => Ops.MatMul(x["a"], x["b"].T()));
    [Fact] public void MaskedMean() => Run("masked_mean", ["x"], (f, x) => Ops.MaskedMean(x["x"], f.Input("mask")));
}
