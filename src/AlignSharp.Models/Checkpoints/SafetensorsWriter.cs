using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// Writes one safetensors file: 8-byte little-endian header length, the JSON header padded with spaces
/// to a multiple of 8 bytes (as huggingface/safetensors does, so the data section starts 8-aligned), then each
/// tensor's bytes in the order given. Values are encoded chunk by chunk, so memory stays at one tensor (lazy tensors) or one
/// chunk (in-memory tensors). The file appears atomically: temp file, flush, rename.
/// </summary>
public static class SafetensorsWriter
{
    private const int ChunkElements = 1 << 16;

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/>, replacing it atomically. <c>__metadata__</c>
    /// gets <paramref name="metadata"/> plus <c>"format": "pt"</c> unless given, which transformers requires to load the file.
    /// </summary>
    public static void Write(string path, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        byte[] header = BuildHeader(list, metadata, System.IO.Path.GetFileName(path));
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            WriteData(stream, list);
        });
    }

    /// <summary>The header JSON, padded with spaces to a multiple of 8 bytes; validates names, shapes, dtypes and data lengths.</summary>
    internal static byte[] BuildHeader(IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata, string file)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            if (metadata is null || !metadata.ContainsKey("format")) json.WriteString("format", "pt");
            if (metadata is not null)
                foreach (var (key, value) in metadata) json.WriteString(key, value);
            json.WriteEndObject();

            var seen = new HashSet<string>(StringComparer.Ordinal);
            long offset = 0;
            foreach (var t in tensors)
            {
                Validate(t, seen, file);
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.Name());
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += t.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void Validate(TensorToWrite t, HashSet<string> seen, string file)
    {
        if (string.IsNullOrEmpty(t.Name) || t.Name == "__metadata__")
            throw new ArgumentException($"{file}: tensor name '{t.Name}' is not allowed");
        if (!seen.Add(t.Name))
            throw new ArgumentException($"{file}: tensor '{t.Name}' is given twice");
        if (!t.DType.IsWritableFloat())
            throw new ArgumentException($"{file}: tensor '{t.Name}' asks for dtype {t.DType.Name()}; only F32, F16 and BF16 can be written from float32");
        foreach (int d in t.Shape)
            if (d < 0) throw new ArgumentException($"{file}: tensor '{t.Name}' has a negative dimension in shape [{string.Join(", ", t.Shape)}]");
        if (t.Fill is null && t.Data.Length != t.ElementCount)
            throw new ArgumentException($"{file}: tensor '{t.Name}' shape [{string.Join(", ", t.Shape)}] needs {t.ElementCount} values but {t.Data.Length} were given");
        if (t.Fill is not null && t.ElementCount > Array.MaxLength)
            throw new ArgumentException($"{file}: tensor '{t.Name}' has {t.ElementCount} elements, too many to fill lazily; pass its data in memory");
    }

    private static void WriteData(Stream stream, IReadOnlyList<TensorToWrite> tensors)
    {
        var encoded = new byte[ChunkElements * sizeof(float)];
        float[] filled = [];
        foreach (var t in tensors)
        {
            ReadOnlyMemory<float> data = t.Data;
            if (t.Fill is not null)
            {
                int n = (int)t.ElementCount;
                if (filled.Length < n) filled = GC.AllocateUninitializedArray<float>(n);
                t.Fill(filled.AsSpan(0, n));
                data = filled.AsMemory(0, n);
            }
            int size = t.DType.SizeOf();
            for (int start = 0; start < data.Length; start += ChunkElements)
            {
                var chunk = data.Span.Slice(start, Math.Min(ChunkElements, data.Length - start));
                var bytes = encoded.AsSpan(0, chunk.Length * size);
                ElementConverter.FromFloat32(t.DType, chunk, bytes);
                stream.Write(bytes);
            }
        }
    }
}
