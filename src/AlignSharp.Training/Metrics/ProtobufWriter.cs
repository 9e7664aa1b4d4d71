using System.Buffers.Binary;
using System.Text;

namespace AlignSharp.Training.Metrics;

/// <summary>The few protobuf wire-format primitives an event file needs: varint, fixed64, fixed32 and length-delimited fields.</summary>
/// <remarks>
/// Key = (field number &lt;&lt; 3) | wire type, wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
/// (https://protobuf.dev/programming-guides/encoding/). Negative int64 varints take ten bytes, two's complement.
/// </remarks>
internal sealed class ProtobufWriter
{
    readonly List<byte> bytes = [];

    /// <summary>The encoded message so far.</summary>
    public byte[] ToArray() => [.. bytes];

    /// <summary>Writes an int64 field (wire type 0).</summary>
    public void Int64(int field, long value)
    {
        Key(field, 0);
        Varint((ulong)value);
    }

    /// <summary>Writes a double field (wire type 1).</summary>
    public void Double(int field, double value)
    {
        Key(field, 1);
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(buffer, value);
        foreach (byte b in buffer) bytes.Add(b);
    }

    /// <summary>Writes a float field (wire type 5).</summary>
    public void Float(int field, float value)
    {
        Key(field, 5);
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
        foreach (byte b in buffer) bytes.Add(b);
    }

    /// <summary>Writes a UTF-8 string field (wire type 2).</summary>
    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a bytes or embedded-message field (wire type 2).</summary>
    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, 2);
        Varint((ulong)value.Length);
        foreach (byte b in value) bytes.Add(b);
    }

    void Key(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
    }
}
