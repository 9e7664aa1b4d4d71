namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// One header entry of a safetensors file: element type, row-major shape, and the byte range
/// [<paramref name="Begin"/>, <paramref name="End"/>) relative to the start of the data section.
/// </summary>
/// <param name="Name">Hugging Face parameter name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="DType">Element type as stored.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
/// <param name="Begin">First byte, relative to the data section.</param>
/// <param name="End">One past the last byte, relative to the data section.</param>
public sealed record SafetensorInfo(string Name, DType DType, int[] Shape, long Begin, long End)
{
    /// <summary>Product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => ElementCountOf(Shape);

    /// <summary><see cref="End"/> − <see cref="Begin"/>.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Shape as <c>[2, 3]</c>, for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    internal static long ElementCountOf(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n = checked(n * d);
        return n;
    }
}
