using AlignSharp.Models.Generation;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Generation;

/// <summary>The sampler's candidate order: the key sort gives exactly the comparison sort's order.</summary>
public class SamplerOrderTests
{
    [Fact]
    public void Key_sort_orders_as_the_comparison_sort_with_ties_zeros_infinities_and_nan()
    {
        var rng = new Rng(3);
        var values = new float[5000];
        for (int i = 0; i < values.Length; i++) values[i] = MathF.Round((float)rng.NextDouble() * 40 - 20, i % 3 == 0 ? 1 : 6);
        float[] special = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.NaN, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue];
        for (int i = 0; i < special.Length; i++) values[i * 400] = special[i];
        values[7] = -0f; values[8] = 0f;
        var expected = Enumerable.Range(0, values.Length).ToArray();
        Array.Sort(expected, (a, b) => values[b].CompareTo(values[a]) is var c && c != 0 ? c : a.CompareTo(b));
        Assert.Equal(expected, Sampler.Descending(values));
    }
}
