using System.Buffers.Binary;

namespace AlignSharp.Training.Metrics;

/// <summary>TFRecord framing, the container of TensorBoard event files.</summary>
/// <remarks>
/// Each record is u64 LE length | u32 LE masked CRC-32C of the 8 length bytes | data | u32 LE masked CRC-32C of data
/// (tensorflow/core/lib/io/record_writer.cc). The length CRC lets a reader reject a garbled length before trusting it.
/// </remarks>
internal static class TfRecord
{
    /// <summary>Bytes of framing around each record: 8 length + 4 length CRC + 4 data CRC.</summary>
    public const int Overhead = 16;

    /// <summary>Appends one framed record to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
    }

    /// <summary>Reads every record of the file at <paramref name="path"/>, checking both CRCs of each.</summary>
    /// <returns>Each record's data with the byte offset its frame starts at.</returns>
    /// <exception cref="TrainingException">A record is truncated or a CRC does not match; the message names the file and offset.</exception>
    public static IEnumerable<(long Offset, byte[] Data)> ReadAll(string path)
    {
        // ReadWrite sharing: a live training run may still be appending to the file.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[12];
        var footer = new byte[4];
        long offset = 0;
        while (true)
        {
            int got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (got == 0) yield break;
            if (got < header.Length) throw Truncated(path, offset, "header");
            uint storedLengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
            uint lengthCrc = Crc32C.Masked(header.AsSpan(0, 8));
            if (storedLengthCrc != lengthCrc) throw Corrupt(path, offset, "length", storedLengthCrc, lengthCrc);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (length > (ulong)(stream.Length - stream.Position)) throw Truncated(path, offset, $"data ({length} bytes)");
            var data = new byte[length];
            stream.ReadExactly(data);
            if (stream.ReadAtLeast(footer, footer.Length, throwOnEndOfStream: false) < footer.Length) throw Truncated(path, offset, "data CRC");
            uint storedDataCrc = BinaryPrimitives.ReadUInt32LittleEndian(footer);
            uint dataCrc = Crc32C.Masked(data);
            if (storedDataCrc != dataCrc) throw Corrupt(path, offset, "data", storedDataCrc, dataCrc);
            yield return (offset, data);
            offset += Overhead + (long)length;
        }
    }

    static TrainingException Truncated(string path, long offset, string part) =>
        new($"{path}: offset {offset}: record {part} is truncated (the writer was probably killed mid-write); records before this offset are intact, truncate the file at {offset} to keep them");

    static TrainingException Corrupt(string path, long offset, string part, uint stored, uint computed) =>
        new($"{path}: offset {offset}: record {part} CRC mismatch (stored 0x{stored:X8}, computed 0x{computed:X8}); the file is corrupt from this offset, truncate it at {offset} to keep the records before it");
}
