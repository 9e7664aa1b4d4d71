using System.Buffers.Binary;
using System.Text;
using AlignSharp.Models.Checkpoints;

namespace AlignSharp.Models.Tests.Checkpoints;

public class SafetensorsRoundTripTests
{
    private static float[] Values(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
    }

    private static float Narrow(float v, DType dtype) => dtype switch
    {
        DType.F16 => HalfPrecision.HalfToSingle(HalfPrecision.SingleToHalf(v)),
        DType.BF16 => HalfPrecision.BFloat16ToSingle(HalfPrecision.SingleToBFloat16(v)),
        _ => v,
    };

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void Write_then_read_gives_the_values_rounded_to_the_stored_dtype(DType dtype)
    {
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        var weight = Values(6 * 10, 1);
        var bias = Values(7, 2);
        SafetensorsWriter.Write(path, [
            new TensorToWrite("layer.weight", [6, 10], weight, dtype),
            new TensorToWrite("layer.bias", [7], bias, dtype),
            new TensorToWrite("scale", [], new[] { 0.1f }, dtype),
            new TensorToWrite("empty", [0, 3], ReadOnlyMemory<float>.Empty, dtype),
        ], new Dictionary<string, string> { ["step"] = "42" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["layer.weight", "layer.bias", "scale", "empty"], file.Tensors.Keys);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("42", file.Metadata["step"]);
        var info = file.Info("layer.weight");
        Assert.Equal(dtype, info.DType);
        Assert.Equal([6, 10], info.Shape);
        Assert.Equal(60L * dtype.SizeOf(), info.ByteLength);
        Assert.Equal(weight.Select(v => Narrow(v, dtype)), file.ReadFloat32("layer.weight"));
        Assert.Equal(bias.Select(v => Narrow(v, dtype)), file.ReadFloat32("layer.bias"));
        Assert.Equal([Narrow(0.1f, dtype)], file.ReadFloat32("scale"));
        Assert.Empty(file.ReadFloat32("empty"));
    }

    [Fact]
    public void Header_is_padded_with_spaces_to_a_multiple_of_8()
    {
        using var dir = new TempFolder();
        string path = dir.File("a.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite("x", [3], new[] { 1f, 2f, 3f }, DType.BF16)]);
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal(8 + n + 6, bytes.Length);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]}}", header);
        Assert.Matches("^\\{.*\\} *$", header);
    }

    [Fact]
    public void Lazy_tensors_are_filled_while_writing_and_large_tensors_convert_in_parallel()
    {
        using var dir = new TempFolder();
        string path = dir.File("lazy.safetensors");
        const int n = 5_000_000; // above the parallel threshold
        int calls = 0;
        SafetensorsWriter.Write(path, [
            new TensorToWrite("big", [n], span => { calls++; for (int i = 0; i < span.Length; i++) span[i] = i % 256 - 128; }, DType.BF16),
        ]);
        Assert.Equal(1, calls);
        using var file = SafetensorsFile.Open(path);
        var values = file.ReadFloat32("big");
        for (int i = 0; i < n; i += 999) Assert.Equal(i % 256 - 128, values[i]);
        Assert.Equal((n - 1) % 256 - 128, values[^1]);
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_and_no_temp_file()
    {
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite("x", [2], new[] { 1f, 2f })]);
        var before = File.ReadAllBytes(path);
        Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(path, [
            new TensorToWrite("x", [2], _ => throw new InvalidOperationException("boom")),
        ]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("x", new[] { 3 }, 2, DType.F32, "needs 3 values but 2 were given")]
    [InlineData("x", new[] { -1 }, 0, DType.F32, "negative dimension")]
    [InlineData("x", new[] { 2 }, 2, DType.I32, "only F32, F16 and BF16 can be written")]
    [InlineData("__metadata__", new[] { 2 }, 2, DType.F32, "is not allowed")]
    public void Writer_rejects_bad_tensors(string name, int[] shape, int count, DType dtype, string message)
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<ArgumentException>(() =>
            SafetensorsWriter.Write(dir.File("w.safetensors"), [new TensorToWrite(name, shape, new float[count], dtype)]));
        Assert.Contains(message, e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Writer_rejects_duplicate_names()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(dir.File("w.safetensors"),
            [new TensorToWrite("x", [1], new[] { 1f }), new TensorToWrite("x", [1], new[] { 2f })]));
        Assert.Equal("w.safetensors: tensor 'x' is given twice", e.Message);
    }

    [Fact]
    public void Reads_check_the_destination_and_the_name_and_fail_after_dispose()
    {
        using var dir = new TempFolder();
        string path = dir.File("m.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite("x", [2, 2], new[] { 1f, 2f, 3f, 4f })]);
        var file = SafetensorsFile.Open(path);
        var wrongLength = Assert.Throws<ArgumentException>(() => file.ReadFloat32("x", new float[3]));
        Assert.StartsWith("m.safetensors: tensor 'x' [2, 2] has 4 elements but the destination holds 3", wrongLength.Message);
        var missing = Assert.Throws<SafetensorsException>(() => file.ReadFloat32("y"));
        Assert.Equal("m.safetensors: no tensor named 'y' (the file has 1 tensors)", missing.Message);
        var raw = new byte[16];
        file.CopyBytes("x", raw);
        Assert.Equal(3f, BitConverter.ToSingle(raw, 8));
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloat32("x"));
    }
}
