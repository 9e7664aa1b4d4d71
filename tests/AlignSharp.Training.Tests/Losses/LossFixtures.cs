using System.Text.Json;
using AlignSharp.Tensors;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Losses;

/// <summary>
/// Cases from Fixtures/*losses.json (losses.json from tools/fixtures/gen_loss_fixtures.py; the online methods' files
/// from their own scripts): float32 inputs with the loss, metrics and policy-input gradients that plain-torch
/// re-implementations of TRL's losses compute in float64. A loss's cases are looked up in whichever file has its key.
/// </summary>
internal static class LossFixtures
{
    private static readonly Lazy<JsonDocument[]> Documents = new(() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*losses.json").Order(StringComparer.Ordinal)
            .Select(f => JsonDocument.Parse(File.ReadAllText(f))).ToArray());

    private static JsonElement Cases(string loss) =>
        Documents.Value.Select(d => d.RootElement).FirstOrDefault(r => r.TryGetProperty(loss, out _)) is { ValueKind: JsonValueKind.Object } root
            ? root.GetProperty(loss)
            : throw new KeyNotFoundException($"no Fixtures/*losses.json has cases for '{loss}'");

    /// <summary>Case names of one loss, for [MemberData].</summary>
    public static TheoryData<string> Names(string loss)
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases(loss).EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    public static JsonElement Case(string loss, string name) =>
        Cases(loss).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static float[] Floats(this JsonElement e) => e.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
    public static bool[] Bools(this JsonElement e) => e.EnumerateArray().Select(v => v.GetBoolean()).ToArray();
    public static float? OptionalFloat(this JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : (float)e.GetDouble();

    /// <summary>A trainable [B] leaf holding the values, as a model's sequence log-probs would be.</summary>
    public static Tensor Policy(float[] values) => Tensor.Parameter(Tensor.FromArray(values, values.Length));

    /// <summary>A constant [B] tensor.</summary>
    public static Tensor Constant(float[] values) => Tensor.FromArray(values, values.Length);

    /// <summary>|actual − expected| ≤ abs + rel·|expected|: float32 arithmetic against a float64 reference.</summary>
    public static void Close(double expected, double actual, string what, double rel = 1e-5, double abs = 1e-7)
    {
        if (!(Math.Abs(actual - expected) <= abs + rel * Math.Abs(expected)))
            Assert.Fail($"{what}: expected {expected:G9}, got {actual:G9} (difference {actual - expected:G3})");
    }

    public static void Close(float[] expected, ReadOnlySpan<float> actual, string what, double rel = 1e-5, double abs = 1e-7)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Close(expected[i], actual[i], $"{what}[{i}]", rel, abs);
    }

    /// <summary>Compares the loss and every fixture metric (and no others) with the result.</summary>
    public static void MatchesLossAndMetrics(JsonElement fixture, LossResult result)
    {
        string name = fixture.GetProperty("name").GetString()!;
        Assert.Equal(0, result.Loss.Rank);
        Close(fixture.GetProperty("loss").GetDouble(), result.Loss.Item(), $"{name}: loss");
        var expected = fixture.GetProperty("metrics").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(expected.Keys.Order(), result.Metrics.Keys.Order());
        foreach (var (key, value) in expected) Close(value, result.Metrics[key], $"{name}: metric {key}", abs: 1e-6);
    }

    /// <summary>The gradient of the loss with respect to <paramref name="input"/> against fixture grads[<paramref name="key"/>].</summary>
    public static void MatchesGradient(JsonElement fixture, Tensor input, string key)
    {
        Assert.NotNull(input.Grad);
        Close(fixture.GetProperty("grads").GetProperty(key).Floats(), input.Grad!.Span, $"{fixture.GetProperty("name").GetString()}: d loss / d {key}");
    }

    /// <summary>
    /// Central differences of a float32 loss against the autograd gradient of <paramref name="input"/>; the step is
    /// large enough that float32 rounding of the loss stays below the tolerance.
    /// </summary>
    public static void MatchesFiniteDifferences(Func<Tensor> loss, Tensor input, float step = 1e-2f, double rel = 2e-3, double abs = 2e-4)
    {
        input.ZeroGrad();
        loss().Backward();
        var analytic = input.Grad!.ToArray();
        var values = input.Span;
        for (int i = 0; i < values.Length; i++)
        {
            float original = values[i];
            double plus, minus;
            using (Autograd.NoGrad())
            {
                values[i] = original + step; plus = loss().Item();
                values[i] = original - step; minus = loss().Item();
            }
            values[i] = original;
            Close((plus - minus) / (2.0 * step), analytic[i], $"finite difference [{i}]", rel, abs);
        }
    }
}
