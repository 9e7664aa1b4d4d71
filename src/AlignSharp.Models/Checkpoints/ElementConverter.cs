using System.Runtime.InteropServices;

namespace AlignSharp.Models.Checkpoints;

/// <summary>Decodes stored little-endian elements of any <see cref="DType"/> into float32, and encodes float32 into the writable ones.</summary>
internal static class ElementConverter
{
    // FP8 formats are decoded through 256-entry tables built from their definitions.
    private static readonly float[] E4M3 = BuildTable(b =>
    {
        int exponent = (b >> 3) & 0xF, mantissa = b & 7;
        float sign = (b & 0x80) != 0 ? -1f : 1f;
        if (exponent == 0xF && mantissa == 7) return float.NaN;
        if (exponent == 0) return sign * MathF.ScaleB(mantissa, -9);
        return sign * MathF.ScaleB(8 + mantissa, exponent - 7 - 3);
    });
    private static readonly float[] E5M2 = BuildTable(b => HalfPrecision.HalfToSingle((ushort)(b << 8)));
    private static readonly float[] E8M0 = BuildTable(b => b == 0xFF ? float.NaN : MathF.ScaleB(1f, b - 127));

    private static float[] BuildTable(Func<int, float> decode)
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++) table[b] = decode(b);
        return table;
    }

    /// <summary>Decodes <paramref name="destination"/>.Length elements from <paramref name="source"/> (exactly that many elements' bytes).</summary>
    public static void ToFloat32(DType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case DType.F32: MemoryMarshal.Cast<byte, float>(source).CopyTo(destination); break;
            case DType.BF16: HalfPrecision.BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case DType.F16: HalfPrecision.HalfToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case DType.F64: Convert(MemoryMarshal.Cast<byte, double>(source), destination, v => (float)v); break;
            case DType.I64: Convert(MemoryMarshal.Cast<byte, long>(source), destination, v => v); break;
            case DType.I32: Convert(MemoryMarshal.Cast<byte, int>(source), destination, v => v); break;
            case DType.I16: Convert(MemoryMarshal.Cast<byte, short>(source), destination, v => v); break;
            case DType.I8: Convert(MemoryMarshal.Cast<byte, sbyte>(source), destination, v => v); break;
            case DType.U64: Convert(MemoryMarshal.Cast<byte, ulong>(source), destination, v => v); break;
            case DType.U32: Convert(MemoryMarshal.Cast<byte, uint>(source), destination, v => v); break;
            case DType.U16: Convert(MemoryMarshal.Cast<byte, ushort>(source), destination, v => v); break;
            case DType.U8: Convert(source, destination, v => v); break;
            case DType.BOOL: Convert(source, destination, v => v != 0 ? 1f : 0f); break;
            case DType.F8_E4M3: Convert(source, destination, v => E4M3[v]); break;
            case DType.F8_E5M2: Convert(source, destination, v => E5M2[v]); break;
            case DType.F8_E8M0: Convert(source, destination, v => E8M0[v]); break;
            default: throw new NotSupportedException($"dtype {dtype} cannot be read as float32");
        }
    }

    private static void Convert<T>(ReadOnlySpan<T> source, Span<float> destination, Func<T, float> convert)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = convert(source[i]);
    }

    /// <summary>Encodes float32 values as <paramref name="dtype"/> (F32, F16 or BF16) into <paramref name="destination"/> (exactly the needed bytes).</summary>
    public static void FromFloat32(DType dtype, ReadOnlySpan<float> source, Span<byte> destination)
    {
        switch (dtype)
        {
            case DType.F32: MemoryMarshal.AsBytes(source).CopyTo(destination); break;
            case DType.BF16: HalfPrecision.SingleToBFloat16(source, MemoryMarshal.Cast<byte, ushort>(destination)); break;
            case DType.F16: HalfPrecision.SingleToHalf(source, MemoryMarshal.Cast<byte, ushort>(destination)); break;
            default: throw new NotSupportedException($"dtype {dtype} cannot be written from float32 (use F32, F16 or BF16)");
        }
    }
}
