using AlignSharp.Training.Metrics;

namespace AlignSharp.Training.Tests.Metrics;

public class Crc32CTests
{
    [Fact]
    public void Check_value_of_123456789() => Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Fact]
    public void Empty_input_is_zero() => Assert.Equal(0u, Crc32C.Compute([]));

    [Fact]
    public void Mask_of_check_value() => Assert.Equal(0xC78AB0E5u, Crc32C.Mask(0xE3069283));

    [Fact]
    public void Masked_crc_of_a_24_byte_length_matches_tensorflow_file_headers()
    {
        // Every TensorFlow event file starts 18 00 00 00 00 00 00 00 a3 7f 4b 22: a 24-byte file_version record.
        byte[] length = [0x18, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(0x224B7FA3u, Crc32C.Masked(length));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0xE3069283u)]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x12345678u)]
    public void Unmask_inverts_mask(uint crc) => Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
}
