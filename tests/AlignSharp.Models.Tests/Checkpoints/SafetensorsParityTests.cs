using System.Text.Json;
using AlignSharp.Models.Checkpoints;

namespace AlignSharp.Models.Tests.Checkpoints;

/// <summary>
/// Checks against Fixtures/safetensors/mixed.safetensors, written by tools/fixtures/gen_safetensors_fixture.py
/// with torch's own float32 → F16/BF16 conversions; mixed.json holds what <c>tensor.float()</c> returns.
/// </summary>
public class SafetensorsParityTests
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "safetensors");

    private static uint[] Bits(JsonElement array) => array.EnumerateArray().Select(e => e.GetUInt32()).ToArray();

    private static void AssertSameBits(uint expected, uint actual, string what)
    {
        bool expectedNaN = float.IsNaN(BitConverter.UInt32BitsToSingle(expected)), actualNaN = float.IsNaN(BitConverter.UInt32BitsToSingle(actual));
        if (expectedNaN || actualNaN) Assert.True(expectedNaN && actualNaN, $"{what}: expected 0x{expected:X8}, got 0x{actual:X8}");
        else Assert.True(expected == actual, $"{what}: expected 0x{expected:X8} ({BitConverter.UInt32BitsToSingle(expected):R}), got 0x{actual:X8} ({BitConverter.UInt32BitsToSingle(actual):R})");
    }

    private static bool IsHalfNaN(uint bits, DType dtype) =>
        dtype == DType.F16 ? (bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0 : (bits & 0x7F80) == 0x7F80 && (bits & 0x7F) != 0;

    [Fact]
    public void Reader_widens_every_dtype_exactly_as_torch_float_does()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "mixed.json")));
        using var file = SafetensorsFile.Open(Path.Combine(FixtureDir, "mixed.safetensors"));
        var tensors = expected.RootElement.GetProperty("tensors");

        Assert.Equal(tensors.EnumerateObject().Select(p => p.Name), file.Tensors.Keys);
        Assert.Equal("gen_safetensors_fixture.py", file.Metadata["source"]);
        foreach (var entry in tensors.EnumerateObject())
        {
            var info = file.Info(entry.Name);
            Assert.Equal(entry.Value.GetProperty("dtype").GetString(), info.DType.Name());
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), info.Shape);
            var want = Bits(entry.Value.GetProperty("float32_bits"));
            var got = file.ReadFloat32(entry.Name);
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++)
                AssertSameBits(want[i], BitConverter.SingleToUInt32Bits(got[i]), $"{entry.Name}[{i}]");
        }
    }

    [Theory]
    [InlineData("corners.f16", DType.F16)]
    [InlineData("corners.bf16", DType.BF16)]
    public void Writer_narrows_exactly_as_torch_does(string name, DType dtype)
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "mixed.json")));
        var entry = expected.RootElement.GetProperty("tensors").GetProperty(name);
        var source = Bits(entry.GetProperty("source_float32_bits")).Select(BitConverter.UInt32BitsToSingle).ToArray();
        var stored = Bits(entry.GetProperty("stored_bits"));

        using var dir = new TempFolder();
        string path = dir.File("narrowed.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite(name, [source.Length], source, dtype)]);
        using var file = SafetensorsFile.Open(path);
        var bytes = new byte[source.Length * 2];
        file.CopyBytes(name, bytes);
        for (int i = 0; i < source.Length; i++)
        {
            uint got = BitConverter.ToUInt16(bytes, 2 * i);
            if (IsHalfNaN(stored[i], dtype)) Assert.True(IsHalfNaN(got, dtype), $"{name}[{i}]: expected NaN, got 0x{got:X4}");
            else Assert.True(stored[i] == got, $"{name}[{i}] = {source[i]:R}: torch stores 0x{stored[i]:X4}, we stored 0x{got:X4}");
        }
    }

    [Fact]
    public void Fp8_formats_decode_their_defining_values()
    {
        using var dir = new TempFolder();
        string path = dir.File("fp8.safetensors");
        byte[] codes = [0x00, 0x01, 0x38, 0x7E, 0x7F, 0xFE, 0x7C, 0x80];
        var header = System.Text.Encoding.UTF8.GetBytes(
            "{\"e4m3\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]},\"e5m2\":{\"dtype\":\"F8_E5M2\",\"shape\":[8],\"data_offsets\":[8,16]},\"e8m0\":{\"dtype\":\"F8_E8M0\",\"shape\":[8],\"data_offsets\":[16,24]}}");
        using (var stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            stream.Write(header);
            for (int k = 0; k < 3; k++) stream.Write(codes);
        }
        using var file = SafetensorsFile.Open(path);
        Assert.Equal([0f, 0.001953125f, 1f, 448f, float.NaN, -448f, 384f, -0f], file.ReadFloat32("e4m3"));
        Assert.Equal([0f, 1.5258789E-05f, 0.5f, float.NaN, float.NaN, float.NaN, float.PositiveInfinity, -0f], file.ReadFloat32("e5m2"));
        Assert.Equal([MathF.ScaleB(1, -127), MathF.ScaleB(1, -126), MathF.ScaleB(1, -71), MathF.ScaleB(1, -1), 1f, MathF.ScaleB(1, 127), MathF.ScaleB(1, -3), 2f], file.ReadFloat32("e8m0"));
    }
}
