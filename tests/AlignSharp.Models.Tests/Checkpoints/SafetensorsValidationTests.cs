using System.Buffers.Binary;
using System.Text;
using AlignSharp.Models.Checkpoints;

namespace AlignSharp.Models.Tests.Checkpoints;

/// <summary>Corrupted files crafted byte by byte: each must fail on open with a message naming the file and the entry.</summary>
public class SafetensorsValidationTests
{
    private static byte[] Build(string header, int dataBytes, ulong? declaredHeaderLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    private static string OpenError(byte[] bytes, string name = "model.safetensors")
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File(name), bytes);
        return Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(dir.File(name)).Dispose()).Message;
    }

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    [Fact]
    public void Header_padded_with_spaces_and_metadata_load()
    {
        using var dir = new TempFolder();
        string path = dir.File("ok.safetensors");
        File.WriteAllBytes(path, Build("{\"__metadata__\":{\"a\":\"b\"}," + Entry("x", "F32", "[2]", 0, 8) + "}     ", 8));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("b", file.Metadata["a"]);
        Assert.Equal(new[] { 0f, 0f }, file.ReadFloat32("x"));
    }

    [Fact]
    public void File_shorter_than_the_length_prefix() =>
        Assert.Equal("model.safetensors: file is 5 bytes, too short for the 8-byte header length (truncated or not a safetensors file)",
            OpenError(new byte[5]));

    [Fact]
    public void Absurd_header_length() =>
        Assert.Equal("model.safetensors: header length 200000000 exceeds the 100000000-byte limit (not a safetensors file, or corrupted)",
            OpenError(Build("{}", 0, 200_000_000)));

    [Fact]
    public void Header_length_past_end_of_file() =>
        Assert.Equal("model.safetensors: header length 1000 runs past the end of the 10-byte file (truncated or not a safetensors file)",
            OpenError(Build("{}", 0, 1000)));

    [Fact]
    public void Header_not_json() =>
        Assert.StartsWith("model.safetensors: header is not valid JSON (", OpenError(Build("{\"x\": nope}", 0)));

    [Fact]
    public void Header_not_utf8()
    {
        var bytes = Build("{\"?\":1}", 0);
        bytes[10] = 0xFF; // the '?'
        Assert.Equal("model.safetensors: header is not valid UTF-8 (corrupted, or not a safetensors file)", OpenError(bytes));
    }

    [Fact]
    public void Header_not_an_object() =>
        Assert.Equal("model.safetensors: header must be a JSON object of tensors, got Array", OpenError(Build("[1, 2]", 0)));

    [Theory]
    [InlineData("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "model.safetensors: tensor 'w' has no 'dtype'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "model.safetensors: tensor 'w' has no 'shape'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", "model.safetensors: tensor 'w' has no 'data_offsets'")]
    [InlineData("{\"w\":[1]}", "model.safetensors: tensor 'w' must be an object with dtype, shape and data_offsets, got Array")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "model.safetensors: tensor 'w': 'data_offsets' must be [begin, end] with non-negative integers, got [0]")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "model.safetensors: tensor 'w': shape[0] must be an integer, got 2.5")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "model.safetensors: tensor 'w': data_offsets [8, 0) end before they begin")]
    [InlineData("{\"__metadata__\":{\"step\":3}}", "model.safetensors: '__metadata__.step' must be a string, got Number")]
    public void Malformed_entries(string header, string message) => Assert.Equal(message, OpenError(Build(header, 8)));

    [Fact]
    public void Unknown_dtype() =>
        Assert.StartsWith("model.safetensors: tensor 'w' has unknown dtype 'F4' (known: F32, F16, BF16,",
            OpenError(Build("{" + Entry("w", "F4", "[2]", 0, 1) + "}", 1)));

    [Fact]
    public void Negative_dimension() =>
        Assert.Equal("model.safetensors: tensor 'w': shape[1] is negative (-3)",
            OpenError(Build("{" + Entry("w", "F32", "[2, -3]", 0, 0) + "}", 0)));

    [Fact]
    public void Byte_length_does_not_match_shape() =>
        Assert.Equal("model.safetensors: tensor 'w': shape [2, 3] of BF16 needs 12 bytes but data_offsets [0, 10) hold 10",
            OpenError(Build("{" + Entry("w", "BF16", "[2,3]", 0, 10) + "}", 10)));

    [Fact]
    public void Offsets_beyond_the_data_section() =>
        Assert.Equal("model.safetensors: tensor 'model.norm.weight' declares bytes [100, 4196) but the data section is 4000 bytes (truncated or corrupted file)",
            OpenError(Build("{" + Entry("model.embed_tokens.weight", "F32", "[25]", 0, 100) + "," + Entry("model.norm.weight", "F32", "[1024]", 100, 4196) + "}", 4000)));

    [Fact]
    public void Overlapping_tensors() =>
        Assert.Equal("model.safetensors: tensors 'a' [0, 16) and 'b' [8, 24) overlap",
            OpenError(Build("{" + Entry("b", "F32", "[4]", 8, 24) + "," + Entry("a", "F32", "[4]", 0, 16) + "}", 24)));

    [Fact]
    public void Gap_between_tensors() =>
        Assert.Equal("model.safetensors: bytes [16, 24) of the data section belong to no tensor (gap before 'b'; the format requires the data to be fully covered)",
            OpenError(Build("{" + Entry("a", "F32", "[4]", 0, 16) + "," + Entry("b", "F32", "[2]", 24, 32) + "}", 32)));

    [Fact]
    public void Trailing_bytes_after_the_last_tensor() =>
        Assert.Equal("model.safetensors: the data section is 20 bytes but the tensors cover only [0, 16) (4 trailing bytes belong to no tensor)",
            OpenError(Build("{" + Entry("a", "F32", "[4]", 0, 16) + "}", 20)));

    [Fact]
    public void Duplicate_names() =>
        Assert.Equal("model.safetensors: tensor 'a' appears twice in the header",
            OpenError(Build("{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("a", "F32", "[2]", 8, 16) + "}", 16)));

    [Fact]
    public void Truncated_file_written_by_the_writer()
    {
        using var dir = new TempFolder();
        string path = dir.File("model-00002-of-00002.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite("a", [4], new float[4]), new TensorToWrite("lm_head.weight", [8, 4], new float[32], DType.BF16)]);
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(stream.Length - 3);
        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(path));
        Assert.Equal("model-00002-of-00002.safetensors: tensor 'lm_head.weight' declares bytes [16, 80) but the data section is 77 bytes (truncated or corrupted file)", e.Message);
    }
}
