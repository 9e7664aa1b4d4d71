namespace AlignSharp.Tensors;

/// <summary>Shape arithmetic shared by the ops, with errors that name the op and the shapes.</summary>
public static class ShapeUtil
{
    public static int Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"shape [{Format(shape)}] has more than 2^31 elements");
        return (int)n;
    }

    internal static void Validate(int[] shape)
    {
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"shape [{Format(shape)}] has a negative axis");
    }

    public static string Format(ReadOnlySpan<int> shape) => string.Join(", ", shape.ToArray());

    /// <summary>Product of all axes except the last two (1 for rank &lt; 3).</summary>
    internal static int BatchCount(ReadOnlySpan<int> shape) => shape.Length <= 2 ? 1 : Count(shape[..^2]);

    /// <summary>Product of all axes except the last (the number of rows when the last axis is reduced).</summary>
    internal static int RowCount(ReadOnlySpan<int> shape) => shape.Length == 0 ? 1 : Count(shape[..^1]);

    internal static int[] ResolveReshape(int[] from, int[] to)
    {
        int total = Count(from), known = 1, inferred = -1;
        var shape = (int[])to.Clone();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (inferred >= 0) throw new ArgumentException($"Reshape: only one axis may be -1 (got [{Format(to)}])");
                inferred = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"Reshape: invalid target shape [{Format(to)}]");
            else known *= shape[i];
        }
        if (inferred >= 0)
        {
            if (known == 0 || total % known != 0) throw new ArgumentException($"Reshape: cannot reshape [{Format(from)}] to [{Format(to)}]");
            shape[inferred] = total / known;
        }
        if (Count(shape) != total) throw new ArgumentException($"Reshape: cannot reshape [{Format(from)}] ({total} elements) to [{Format(to)}]");
        return shape;
    }

    /// <summary>Numpy broadcasting of two shapes; throws naming the op and both shapes.</summary>
    internal static int[] Broadcast(string op, ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes [{Format(a)}] and [{Format(b)}] cannot be broadcast together (axis {i}: {da} vs {db})");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Strides of <paramref name="shape"/> aligned to the trailing axes of a rank-<paramref name="rank"/> result, 0 on broadcast axes.</summary>
    internal static int[] BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> result)
    {
        int rank = result.Length;
        var strides = new int[rank];
        int stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            int r = i + rank - shape.Length;
            strides[r] = shape[i] == 1 && result[r] != 1 ? 0 : stride;
            stride *= shape[i];
        }
        return strides;
    }

    internal static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    internal static void RequireSame(string op, Tensor a, Tensor b)
    {
        if (!SameShape(a.Shape, b.Shape))
            throw new ArgumentException($"{op}: shapes [{Format(a.Shape)}] and [{Format(b.Shape)}] must match");
    }

    internal static int NormalizeAxis(string op, int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentException($"{op}: axis {axis} is out of range for rank {rank}");
        return a;
    }
}
