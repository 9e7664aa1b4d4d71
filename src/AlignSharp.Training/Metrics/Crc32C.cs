namespace AlignSharp.Training.Metrics;

/// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and the TFRecord mask, with a 256-entry table.</summary>
/// <remarks>
/// TFRecord stores <c>Mask(crc)</c> rather than the raw CRC because a CRC of data that itself
/// contains CRCs is weak: mask(c) = ((c &gt;&gt; 15) | (c &lt;&lt; 17)) + 0xA282EAD8 (tensorflow/core/lib/hash/crc32c.h).
/// Check value: CRC32C("123456789") = 0xE3069283.
/// </remarks>
internal static class Crc32C
{
    const uint Polynomial = 0x82F63B78;
    const uint MaskDelta = 0xA282EAD8;

    static readonly uint[] Table = BuildTable();

    static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int bit = 0; bit < 8; bit++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFF;
    }

    /// <summary>The TFRecord-masked form of <paramref name="crc"/>.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    /// <summary>Inverts <see cref="Mask"/>.</summary>
    public static uint Unmask(uint masked)
    {
        uint rotated = masked - MaskDelta;
        return (rotated >> 17) | (rotated << 15);
    }

    /// <summary>The masked CRC-32C of <paramref name="data"/>, as stored in a TFRecord.</summary>
    public static uint Masked(ReadOnlySpan<byte> data) => Mask(Compute(data));
}
