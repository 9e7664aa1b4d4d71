using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// One safetensors file, memory-mapped read-only: 8-byte little-endian header length N, N bytes of
/// JSON header, then the data section. Reads convert straight from the mapping into the caller's
/// buffer, so loading never holds a second copy of the file in managed memory, and 64-bit offsets
/// make files over 2 GB work. Reads are thread-safe; the header is validated on open.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private const int ChunkElements = 1 << 20;   // converted per task; 4 MiB of float32
    private const long ParallelElements = 1 << 22; // below this one thread converts faster than tasks start

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _data; // start of the data section inside the mapping; null once disposed

    /// <summary>Path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>Tensors in header order (for files written by Hugging Face, also offset order).</summary>
    public IReadOnlyDictionary<string, SafetensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent), e.g. <c>{"format": "pt"}</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>File offset of the data section: 8 + header length.</summary>
    public long DataOffset { get; }

    /// <summary>Bytes in the data section.</summary>
    public long DataLength { get; }

    private string FileName => System.IO.Path.GetFileName(Path);

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, SafetensorsHeader header, long dataOffset, long dataLength)
    {
        Path = path; _map = map; _view = view;
        Tensors = header.Tensors; Metadata = header.Metadata;
        DataOffset = dataOffset; DataLength = dataLength;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _data = pointer + view.PointerOffset + dataOffset;
    }

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="SafetensorsException"/> naming the file and the bad entry.</summary>
    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors reading assumes a little-endian machine");
        string file = System.IO.Path.GetFileName(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.RandomAccess);
        try
        {
            long length = stream.Length;
            Span<byte> prefix = stackalloc byte[8];
            if (length < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
                throw new SafetensorsException($"{file}: file is {length} bytes, too short for the 8-byte header length (truncated or not a safetensors file)");
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
                throw new SafetensorsException($"{file}: header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit (not a safetensors file, or corrupted)");
            if (8 + (long)headerLength > length)
                throw new SafetensorsException($"{file}: header length {headerLength} runs past the end of the {length}-byte file (truncated or not a safetensors file)");

            var json = new byte[headerLength];
            stream.ReadExactly(json);
            long dataOffset = 8 + (long)headerLength, dataLength = length - dataOffset;
            var header = SafetensorsHeader.Parse(json, dataLength, file);

            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                return new SafetensorsFile(path, map, view, header, dataOffset, dataLength);
            }
            catch { map.Dispose(); throw; }
        }
        catch { stream.Dispose(); throw; }
    }

    /// <summary>True when the file holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => Tensors.ContainsKey(name);

    /// <summary>The header entry for <paramref name="name"/>.</summary>
    public SafetensorInfo Info(string name) =>
        Tensors.TryGetValue(name, out var info) ? info
        : throw new SafetensorsException($"{FileName}: no tensor named '{name}' (the file has {Tensors.Count} tensors)");

    /// <summary>Reads tensor <paramref name="name"/> as float32 into a new array.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = Info(name);
        if (info.ElementCount > Array.MaxLength)
            throw new SafetensorsException($"{FileName}: tensor '{name}' has {info.ElementCount} elements, more than one array holds; read it in slices");
        var result = GC.AllocateUninitializedArray<float>((int)info.ElementCount);
        ReadFloat32(name, result);
        return result;
    }

    /// <summary>
    /// Reads tensor <paramref name="name"/> as float32 into <paramref name="destination"/>, whose length must equal
    /// the element count. F16 and BF16 widen exactly; F64 and integers round as a cast does; FP8 decodes exactly.
    /// </summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        var info = Info(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"{FileName}: tensor '{name}' {info.ShapeText} has {info.ElementCount} elements but the destination holds {destination.Length}", nameof(destination));
        byte* source = DataPointer() + info.Begin;
        int size = info.DType.SizeOf();
        int n = destination.Length;
        if (n < ParallelElements)
        {
            ElementConverter.ToFloat32(info.DType, new ReadOnlySpan<byte>(source, n * size), destination);
            return;
        }
        // Large tensors: convert chunks in parallel, which also spreads the page faults of a cold mapping.
        fixed (float* target = destination)
        {
            nint targetAddress = (nint)target, sourceAddress = (nint)source;
            var dtype = info.DType;
            int chunks = (int)((n + (long)ChunkElements - 1) / ChunkElements);
            Parallel.For(0, chunks, chunk =>
            {
                long start = (long)chunk * ChunkElements;
                int count = (int)Math.Min(ChunkElements, n - start);
                ElementConverter.ToFloat32(dtype,
                    new ReadOnlySpan<byte>((byte*)sourceAddress + start * size, count * size),
                    new Span<float>((float*)targetAddress + start, count));
            });
        }
    }

    /// <summary>Copies tensor <paramref name="name"/>'s stored bytes unchanged (e.g. I64 token ids, or resharding without conversion).</summary>
    public void CopyBytes(string name, Span<byte> destination)
    {
        var info = Info(name);
        if (destination.Length != info.ByteLength)
            throw new ArgumentException($"{FileName}: tensor '{name}' has {info.ByteLength} bytes but the destination holds {destination.Length}", nameof(destination));
        byte* source = DataPointer() + info.Begin;
        new ReadOnlySpan<byte>(source, destination.Length).CopyTo(destination);
    }

    private byte* DataPointer()
    {
        byte* data = _data;
        ObjectDisposedException.ThrowIf(data == null, this);
        return data;
    }

    /// <summary>Unmaps the file. Data already read stays valid; later reads throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_data == null) return;
        _data = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
