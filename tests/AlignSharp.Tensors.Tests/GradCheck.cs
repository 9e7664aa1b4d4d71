using AlignSharp.Tensors;

namespace AlignSharp.Tensors.Tests;

/// <summary>
/// Finite-difference gradient checker. The op's output is projected on a fixed random tensor R
/// (L = Σ f(x)·R, accumulated in double), so every output element's gradient rule is exercised.
/// Central differences with step h on float32 arithmetic carry an error of order h² + ε_f32/h; the
/// tolerance (2e-2 relative, 2e-3 absolute) sits far below the O(1) error a wrong rule makes.
/// </summary>
internal static class GradCheck
{
    public static void Check(string name, Func<Tensor[], Tensor> f, Tensor[] inputs, int seed = 0, float h = 1e-2f,
        double rtol = 2e-2, double atol = 2e-3, int maxCoordinates = 48)
    {
        var rng = new Rng((ulong)seed + 1000);
        var leaves = inputs.Select(x => Tensor.Parameter(x)).ToArray();
        float[] projection;
        using (Autograd.NoGrad()) projection = RandomLike(f(leaves), rng);

        var y = f(leaves);
        var r = Tensor.FromArray(projection, y.Shape.ToArray());
        Ops.Sum(Ops.Mul(y, r)).Backward();

        for (int n = 0; n < leaves.Length; n++)
        {
            var leaf = leaves[n];
            Assert.True(leaf.Grad is not null, $"{name}: input {n} received no gradient");
            var analytic = leaf.Grad!.ToArray();
            var data = leaf.Span;
            var coordinates = Enumerable.Range(0, leaf.Length).ToArray();
            if (coordinates.Length > maxCoordinates) coordinates = coordinates.OrderBy(_ => rng.NextDouble()).Take(maxCoordinates).ToArray();
            foreach (int i in coordinates)
            {
                float saved = data[i];
                data[i] = saved + h;
                double plus = Projected(f, leaves, projection);
                data[i] = saved - h;
                double minus = Projected(f, leaves, projection);
                data[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                double err = Math.Abs(numeric - analytic[i]);
                Assert.True(err <= atol + rtol * Math.Abs(numeric),
                    $"{name}: d/d input{n}[{i}] analytic {analytic[i]:G6} vs numeric {numeric:G6} (shape [{string.Join(",", leaf.Shape.ToArray())}])");
            }
        }
    }

    private static double Projected(Func<Tensor[], Tensor> f, Tensor[] leaves, float[] projection)
    {
        using var _ = Autograd.NoGrad();
        var y = f(leaves).ToArray();
        double total = 0;
        for (int i = 0; i < y.Length; i++) total += (double)y[i] * projection[i];
        return total;
    }

    private static float[] RandomLike(Tensor t, Rng rng)
    {
        var values = new float[t.Length];
        rng.FillUniform(values, -1f, 1f);
        return values;
    }

    /// <summary>A random shape of the given rank with axes in [lo, hi].</summary>
    public static int[] RandomShape(Rng rng, int rank, int lo = 1, int hi = 5) =>
        Enumerable.Range(0, rank).Select(_ => lo + rng.NextInt(hi - lo + 1)).ToArray();

    public static Tensor Rand(Rng rng, params int[] shape) => Tensor.Uniform(rng, -1f, 1f, shape);
}
