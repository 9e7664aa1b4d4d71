using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// Exact conversions between float32 and the 16-bit formats PyTorch checkpoints use.
/// Widening (16 → 32 bits) is exact for every bit pattern; narrowing rounds to nearest, ties to even,
/// bit-for-bit as <c>tensor.to(torch.bfloat16)</c> / <c>tensor.half()</c> do (NaN payloads aside).
/// </summary>
public static class HalfPrecision
{
    /// <summary>bfloat16 → float32: the bf16 bits are the upper half of the float32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// float32 → bfloat16, round to nearest even (c10::round_to_nearest_even): add 0x7FFF plus the
    /// lowest kept bit, then truncate. NaN becomes the quiet NaN 0x7FC0 with the input's sign dropped, as torch does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort SingleToBFloat16(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>IEEE binary16 → float32, exact for normals, subnormals, ±0, ±inf and NaN (payload kept).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>float32 → IEEE binary16, round to nearest even; overflow goes to ±inf, underflow to subnormals or ±0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort SingleToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>Widens bfloat16 bit patterns to float32, vectorised.</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        int n = source.Length, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(Vector.LoadUnsafe(ref src, (nuint)i), out Vector<uint> lo, out Vector<uint> hi);
                Vector.StoreUnsafe(lo << 16, ref dst, (nuint)i);
                Vector.StoreUnsafe(hi << 16, ref dst, (nuint)(i + Vector<uint>.Count));
            }
        }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = (uint)Unsafe.Add(ref src, i) << 16;
    }

    /// <summary>
    /// Widens binary16 bit patterns to float32, vectorised with the exponent-rebias trick
    /// (Giesen, "half to float done quic"): shift the exponent and mantissa into place, rebias by 127 − 15,
    /// rebias again for inf/NaN, and renormalise subnormals with one float subtraction.
    /// </summary>
    public static void HalfToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        int n = source.Length, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(Vector.LoadUnsafe(ref src, (nuint)i), out Vector<uint> lo, out Vector<uint> hi);
                Vector.StoreUnsafe(WidenHalf(lo), ref dst, (nuint)i);
                Vector.StoreUnsafe(WidenHalf(hi), ref dst, (nuint)(i + Vector<uint>.Count));
            }
        }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = BitConverter.SingleToUInt32Bits(HalfToSingle(Unsafe.Add(ref src, i)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> WidenHalf(Vector<uint> h)
    {
        var sign = (h & new Vector<uint>(0x8000u)) << 16;
        var bits = (h & new Vector<uint>(0x7FFFu)) << 13;
        var exponent = bits & new Vector<uint>(0x0F800000u);
        bits += new Vector<uint>((127u - 15u) << 23);
        var infOrNaN = Vector.Equals(exponent, new Vector<uint>(0x0F800000u));
        bits += infOrNaN & new Vector<uint>((128u - 16u) << 23);
        // Zero/subnormal: read 2^-14 · (1 + m/1024) as a float and subtract 2^-14, leaving m · 2^-24 exactly.
        var subnormal = Vector.Equals(exponent, Vector<uint>.Zero);
        var renormalised = Vector.AsVectorUInt32(
            Vector.AsVectorSingle(bits + new Vector<uint>(1u << 23)) - new Vector<float>(BitConverter.UInt32BitsToSingle(113u << 23)));
        return Vector.ConditionalSelect(subnormal, renormalised, bits) | sign;
    }

    /// <summary>Narrows float32 to bfloat16 bit patterns, round to nearest even, vectorised.</summary>
    public static void SingleToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckLengths(source.Length, destination.Length);
        ref uint src = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(source));
        ref ushort dst = ref MemoryMarshal.GetReference(destination);
        int n = source.Length, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                var lo = NarrowBFloat16(Vector.LoadUnsafe(ref src, (nuint)i));
                var hi = NarrowBFloat16(Vector.LoadUnsafe(ref src, (nuint)(i + Vector<uint>.Count)));
                Vector.StoreUnsafe(Vector.Narrow(lo, hi), ref dst, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = SingleToBFloat16(BitConverter.UInt32BitsToSingle(Unsafe.Add(ref src, i)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> NarrowBFloat16(Vector<uint> bits)
    {
        var rounded = (bits + new Vector<uint>(0x7FFFu) + ((bits >> 16) & Vector<uint>.One)) >> 16;
        var nan = Vector.GreaterThan(bits & new Vector<uint>(0x7FFFFFFFu), new Vector<uint>(0x7F800000u));
        return Vector.ConditionalSelect(nan, new Vector<uint>(0x7FC0u), rounded);
    }

    /// <summary>Narrows float32 to binary16 bit patterns, round to nearest even.</summary>
    public static void SingleToHalf(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckLengths(source.Length, destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = SingleToHalf(source[i]);
    }

    private static void CheckLengths(int source, int destination)
    {
        if (source != destination)
            throw new ArgumentException($"source has {source} elements but destination has {destination}");
    }
}
