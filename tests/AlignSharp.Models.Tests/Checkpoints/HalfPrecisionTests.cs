using AlignSharp.Models.Checkpoints;

namespace AlignSharp.Models.Tests.Checkpoints;

public class HalfPrecisionTests
{
    private static ushort[] AllPatterns() => Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();

    [Fact]
    public void Vectorised_half_widening_matches_System_Half_for_every_bit_pattern()
    {
        var bits = AllPatterns();
        var widened = new float[bits.Length];
        HalfPrecision.HalfToSingle(bits, widened);
        for (int i = 0; i < bits.Length; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf(bits[i]);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(widened[i]), $"0x{i:X4}");
            else Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(widened[i]),
                $"0x{i:X4}: expected {expected:R}, got {widened[i]:R}");
        }
    }

    [Fact]
    public void Vectorised_bfloat16_widening_is_a_16_bit_shift_for_every_bit_pattern()
    {
        var bits = AllPatterns();
        var widened = new float[bits.Length];
        HalfPrecision.BFloat16ToSingle(bits, widened);
        for (int i = 0; i < bits.Length; i++)
            Assert.Equal((uint)i << 16, BitConverter.SingleToUInt32Bits(widened[i]));
    }

    [Fact]
    public void Narrowing_round_trips_every_representable_value()
    {
        foreach (ushort b in AllPatterns())
        {
            float bf = HalfPrecision.BFloat16ToSingle(b), h = HalfPrecision.HalfToSingle(b);
            if (!float.IsNaN(bf)) Assert.Equal(b, HalfPrecision.SingleToBFloat16(bf));
            if (!float.IsNaN(h)) Assert.Equal(b, HalfPrecision.SingleToHalf(h));
        }
    }

    [Theory]
    [InlineData(1.00390625f, 0x3F80)]   // 1 + 2^-8: tie, rounds down to even
    [InlineData(1.01171875f, 0x3F82)]   // 1 + 3·2^-8: tie, rounds up to even
    [InlineData(1.0039072f, 0x3F81)]    // 1 + 2^-8 + 2^-20: just above the tie
    [InlineData(3.4028235e38f, 0x7F80)] // float32 max rounds to +inf
    [InlineData(-0.0f, 0x8000)]
    public void Bfloat16_narrowing_rounds_to_nearest_even(float value, int expected) =>
        Assert.Equal((ushort)expected, HalfPrecision.SingleToBFloat16(value));

    [Fact]
    public void Bfloat16_narrowing_of_nan_is_quiet_nan() =>
        Assert.Equal((ushort)0x7FC0, HalfPrecision.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0xFF800001)));

    [Fact]
    public void Vectorised_bfloat16_narrowing_matches_the_scalar_rule()
    {
        var random = new Random(5);
        var values = new float[100_003];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32));
        values[0] = float.NaN; values[1] = float.PositiveInfinity; values[2] = -0f; values[3] = 1.00390625f; values[4] = 1.01171875f;
        var narrowed = new ushort[values.Length];
        HalfPrecision.SingleToBFloat16(values, narrowed);
        for (int i = 0; i < values.Length; i++) Assert.Equal(HalfPrecision.SingleToBFloat16(values[i]), narrowed[i]);
    }

    [Fact]
    public void Span_overloads_reject_length_mismatch() =>
        Assert.Throws<ArgumentException>(() => HalfPrecision.BFloat16ToSingle(new ushort[3], new float[2]));
}
