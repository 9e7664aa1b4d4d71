using System.Text;
using AlignSharp.Models.Checkpoints;

namespace AlignSharp.Models.Tests.Checkpoints;

public class SafetensorsLargeFileTests
{
    /// <summary>
    /// A 3 GiB file made sparse with SetLength: a zero "padding" tensor, then a small tensor past 2^31 bytes,
    /// so only offset arithmetic beyond int range is exercised, not 3 GiB of I/O. Returns without asserting
    /// where the temp filesystem cannot hold the file.
    /// </summary>
    [Fact]
    public void Tensor_beyond_2_GiB_reads_through_64_bit_offsets()
    {
        const long padding = 3L << 30; // 805306368 F32 values
        var header = Encoding.UTF8.GetBytes(
            $"{{\"padding\":{{\"dtype\":\"F32\",\"shape\":[{padding / 4}],\"data_offsets\":[0,{padding}]}}," +
            $"\"tail\":{{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[{padding},{padding + 8}]}}}}");
        ushort[] tail = [0x3F80, 0xC040, 0x7F80, 0x0001]; // 1, -3, inf, smallest bf16 subnormal

        using var dir = new TempFolder();
        string path = dir.File("big.safetensors");
        try
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            stream.Write(header);
            stream.SetLength(8 + header.Length + padding + 8);
            stream.Position = 8 + header.Length + padding;
            foreach (ushort t in tail) stream.Write(BitConverter.GetBytes(t));
        }
        catch (IOException) { return; } // no room and no sparse files here

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(padding, file.Info("tail").Begin);
        Assert.Equal(8 + header.Length + padding + 8, file.DataOffset + file.DataLength);
        Assert.Equal([1f, -3f, float.PositiveInfinity, BitConverter.UInt32BitsToSingle(0x00010000)], file.ReadFloat32("tail"));
    }
}
