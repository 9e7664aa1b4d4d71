using System.Text.Json.Nodes;
using AlignSharp.Models.Checkpoints;

namespace AlignSharp.Models.Tests.Checkpoints;

public class SafetensorsCheckpointTests
{
    // 5 tensors of 4·k floats: F32 sizes 64, 128, 64, 32, 16 bytes.
    private static readonly (string Name, int[] Shape)[] Layout =
    [
        ("model.embed_tokens.weight", [4, 4]),
        ("model.layers.0.mlp.up_proj.weight", [8, 4]),
        ("model.layers.0.mlp.down_proj.weight", [4, 4]),
        ("model.norm.weight", [8]),
        ("lm_head.bias", [4]),
    ];

    private static float[] ValuesOf(string name, int n) =>
        Enumerable.Range(0, n).Select(i => name.Length + i * 0.25f /* exact in BF16 and F16 */).ToArray();

    private static List<TensorToWrite> Tensors(DType dtype = DType.F32) =>
        Layout.Select(t => new TensorToWrite(t.Name, t.Shape, ValuesOf(t.Name, t.Shape.Aggregate(1, (a, b) => a * b)), dtype)).ToList();

    private static string[] FilesIn(TempFolder dir) => Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Sharded_save_then_load_gives_every_tensor_back()
    {
        using var dir = new TempFolder();
        SafetensorsCheckpoint.Save(dir.Path, Tensors(), maxShardBytes: 150, metadata: new Dictionary<string, string> { ["step"] = "7" });

        // Greedy in order: [64], [128], [64, 32, 16].
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
            "model.safetensors.index.json"], FilesIn(dir));
        var index = JsonNode.Parse(File.ReadAllText(dir.File("model.safetensors.index.json")))!;
        Assert.Equal(304, (long)index["metadata"]!["total_size"]!);
        Assert.Equal("model-00002-of-00003.safetensors", (string)index["weight_map"]!["model.layers.0.mlp.up_proj.weight"]!);
        Assert.Equal("model-00003-of-00003.safetensors", (string)index["weight_map"]!["lm_head.bias"]!);

        using var checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(Layout.Select(t => t.Name), checkpoint.Names);
        Assert.Equal(3, checkpoint.Files.Count);
        Assert.Equal("304", checkpoint.Metadata["total_size"]);
        foreach (var (name, shape) in Layout)
        {
            Assert.True(checkpoint.Contains(name));
            Assert.Equal(shape, checkpoint.Info(name).Shape);
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            checkpoint.ReadFloat32(name, values);
            Assert.Equal(ValuesOf(name, values.Length), values);
        }
        Assert.False(checkpoint.Contains("model.layers.1.mlp.up_proj.weight"));
        using var shard = SafetensorsFile.Open(dir.File("model-00001-of-00003.safetensors"));
        Assert.Equal("7", shard.Metadata["step"]);
    }

    [Fact]
    public void Saving_again_removes_the_stale_layout()
    {
        using var dir = new TempFolder();
        SafetensorsCheckpoint.Save(dir.Path, Tensors(), maxShardBytes: 100);
        Assert.Equal(5, FilesIn(dir).Length); // 4 shards + index
        File.WriteAllText(dir.File("config.json"), "{}");
        File.WriteAllText(dir.File("model-00002-of-00004.safetensors.0123456789abcdef0123456789abcdef.partial"), "crash leftover");

        SafetensorsCheckpoint.Save(dir.Path, Tensors(), DType.BF16);
        Assert.Equal(["config.json", "model.safetensors"], FilesIn(dir));
        using (var checkpoint = SafetensorsCheckpoint.Open(dir.Path))
        {
            Assert.Equal(DType.BF16, checkpoint.Info("model.norm.weight").DType);
            Assert.Equal(ValuesOf("model.norm.weight", 8), checkpoint.ReadFloat32("model.norm.weight"));
        }

        SafetensorsCheckpoint.Save(dir.Path, Tensors(), maxShardBytes: 200);
        Assert.Equal(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"], FilesIn(dir));
    }

    [Fact]
    public void Index_naming_a_missing_shard_fails_on_open()
    {
        using var dir = new TempFolder();
        SafetensorsCheckpoint.Save(dir.Path, Tensors(), maxShardBytes: 150);
        File.Delete(dir.File("model-00002-of-00003.safetensors"));
        var e = Assert.Throws<SafetensorsException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Equal($"model.safetensors.index.json: weight_map['model.layers.0.mlp.up_proj.weight'] points to 'model-00002-of-00003.safetensors', which does not exist in {dir.Path} (incomplete download?)", e.Message);
    }

    [Fact]
    public void Name_mapped_to_a_shard_that_lacks_it_fails_on_use()
    {
        using var dir = new TempFolder();
        SafetensorsCheckpoint.Save(dir.Path, Tensors(), maxShardBytes: 150);
        var index = JsonNode.Parse(File.ReadAllText(dir.File("model.safetensors.index.json")))!;
        index["weight_map"]!["model.norm.weight"] = "model-00001-of-00003.safetensors";
        File.WriteAllText(dir.File("model.safetensors.index.json"), index.ToJsonString());

        using var checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(ValuesOf("lm_head.bias", 4), checkpoint.ReadFloat32("lm_head.bias"));
        var e = Assert.Throws<SafetensorsException>(() => checkpoint.Info("model.norm.weight"));
        Assert.Equal("model.safetensors.index.json: weight_map['model.norm.weight'] points to 'model-00001-of-00003.safetensors', but that file has no tensor 'model.norm.weight'", e.Message);
        var unknown = Assert.Throws<SafetensorsException>(() => checkpoint.ReadFloat32("nope"));
        Assert.StartsWith("model.safetensors.index.json: no tensor named 'nope' in ", unknown.Message);
    }

    [Theory]
    [InlineData("[]", "model.safetensors.index.json: must be a JSON object with 'weight_map', got Array")]
    [InlineData("{\"metadata\":{}}", "model.safetensors.index.json: 'weight_map' must be an object mapping tensor names to shard files")]
    [InlineData("{\"weight_map\":{\"a\":3}}", "model.safetensors.index.json: weight_map['a'] must be a file name string, got Number")]
    [InlineData("{\"weight_map\":{\"a\":\"../x.safetensors\"}}", "model.safetensors.index.json: weight_map['a'] = '../x.safetensors' must be a file name in the same folder")]
    [InlineData("{\"weight_map\":", "model.safetensors.index.json: not valid JSON (")]
    public void Malformed_index(string json, string message)
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("model.safetensors.index.json"), json);
        var e = Assert.Throws<SafetensorsException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Folder_without_weights()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<SafetensorsException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Equal($"{dir.Path}: neither model.safetensors nor model.safetensors.index.json exists (is this a Hugging Face model folder with safetensors weights?)", e.Message);
    }

    [Fact]
    public void Single_file_checkpoint_exposes_file_metadata_and_fails_after_dispose()
    {
        using var dir = new TempFolder();
        SafetensorsCheckpoint.Save(dir.Path, Tensors(DType.F16));
        var checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(["model.safetensors"], checkpoint.Files);
        Assert.Equal("pt", checkpoint.Metadata["format"]);
        Assert.Equal(DType.F16, checkpoint.Info("lm_head.bias").DType);
        checkpoint.Dispose();
        Assert.Throws<ObjectDisposedException>(() => checkpoint.ReadFloat32("lm_head.bias"));
    }
}
