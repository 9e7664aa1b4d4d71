using System.Buffers.Binary;
using System.Text;

namespace AlignSharp.Training.Metrics;

/// <summary>Walks the fields of one protobuf message; the counterpart of <see cref="ProtobufWriter"/>, skipping fields it is not asked about.</summary>
/// <param name="data">The encoded message.</param>
internal ref struct ProtobufReader(ReadOnlySpan<byte> data)
{
    readonly ReadOnlySpan<byte> data = data;
    int position;

    /// <summary>The field number of the field just read by <see cref="Next"/>.</summary>
    public int Field { get; private set; }

    /// <summary>The wire type of the field just read (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).</summary>
    public int WireType { get; private set; }

    /// <summary>The value of a varint field.</summary>
    public ulong Varint { get; private set; }

    /// <summary>The payload of a fixed64, fixed32 or length-delimited field.</summary>
    public ReadOnlySpan<byte> Payload { get; private set; }

    /// <summary>Advances to the next field; false at the end of the message.</summary>
    /// <exception cref="FormatException">The message is truncated or uses a group wire type.</exception>
    public bool Next()
    {
        if (position >= data.Length) return false;
        ulong key = ReadVarint();
        Field = (int)(key >> 3);
        WireType = (int)(key & 7);
        Payload = default;
        Varint = 0;
        switch (WireType)
        {
            case 0: Varint = ReadVarint(); break;
            case 1: Payload = Take(8); break;
            case 2: Payload = Take(checked((int)ReadVarint())); break;
            case 5: Payload = Take(4); break;
            default: throw new FormatException($"protobuf wire type {WireType} (field {Field}) is not supported");
        }
        return true;
    }

    /// <summary>The current fixed64 payload as a double.</summary>
    public readonly double AsDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Payload);

    /// <summary>The current fixed32 payload as a float.</summary>
    public readonly float AsFloat() => BinaryPrimitives.ReadSingleLittleEndian(Payload);

    /// <summary>The current length-delimited payload as UTF-8 text.</summary>
    public readonly string AsString() => Encoding.UTF8.GetString(Payload);

    ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > data.Length - position)
            throw new FormatException($"protobuf field {Field} needs {count} bytes at byte {position}, but the message ends at {data.Length}");
        var slice = data.Slice(position, count);
        position += count;
        return slice;
    }

    ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length) throw new FormatException($"protobuf varint runs past the end of the message ({data.Length} bytes)");
            byte b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new FormatException($"protobuf varint longer than ten bytes at byte {position}");
    }
}
