namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// A tensor to save: its Hugging Face name, row-major shape, the element type to store it as, and its
/// float32 values, either held in memory (<see cref="Data"/>, e.g. a view into a flat parameter buffer)
/// or produced on demand (<see cref="Fill"/>, called once while the file is written, so a whole model
/// never has to be materialised at once).
/// </summary>
public sealed record TensorToWrite
{
    /// <summary>Parameter name, e.g. <c>model.norm.weight</c>.</summary>
    public string Name { get; init; }

    /// <summary>Dimensions, outermost first; empty for a scalar.</summary>
    public int[] Shape { get; init; }

    /// <summary>Stored element type: F32, F16 or BF16 (narrowing rounds to nearest even).</summary>
    public DType DType { get; init; }

    /// <summary>Values in row-major order, when held in memory.</summary>
    public ReadOnlyMemory<float> Data { get; init; }

    /// <summary>Writes the values into the given span (length = element count), when produced lazily.</summary>
    public Action<Span<float>>? Fill { get; init; }

    /// <summary>A tensor whose values are in memory.</summary>
    public TensorToWrite(string name, int[] shape, ReadOnlyMemory<float> data, DType dtype = DType.F32)
    {
        Name = name; Shape = shape; Data = data; DType = dtype;
    }

    /// <summary>A tensor whose values <paramref name="fill"/> produces when the writer reaches it.</summary>
    public TensorToWrite(string name, int[] shape, Action<Span<float>> fill, DType dtype = DType.F32)
    {
        Name = name; Shape = shape; Fill = fill; DType = dtype;
    }

    /// <summary>Product of <see cref="Shape"/>.</summary>
    public long ElementCount => SafetensorInfo.ElementCountOf(Shape);

    /// <summary>Bytes this tensor takes in the file.</summary>
    public long ByteLength => ElementCount * DType.SizeOf();
}
