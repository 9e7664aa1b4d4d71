using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Transformers;

public class CheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-ckpt-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static float[] Logits(TransformerModel model)
    {
        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        return model.Forward([1, 2, 3, 4, 5, 6], 2, 3).ToArray();
    }

    [Theory]
    [InlineData(Architecture.Llama, DType.F32, 0L)]
    [InlineData(Architecture.Qwen2, DType.BF16, 0L)]
    [InlineData(Architecture.Gpt2, DType.F32, 200_000L)] // small shards: several files and an index
    public void Save_then_load_gives_the_same_model(Architecture arch, DType dtype, long shardBytes)
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", arch), seed: 7);
        HuggingFaceFolder.Save(model, _dir, dtype, shardBytes == 0 ? SafetensorsCheckpoint.DefaultMaxShardBytes : shardBytes);
        Assert.Equal(shardBytes != 0, File.Exists(Path.Combine(_dir, "model.safetensors.index.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "generation_config.json")));
        using var loaded = HuggingFaceFolder.Load(_dir);
        Assert.Equal(model.Config with { TorchDtype = loaded.Config.TorchDtype }, loaded.Config with { EosTokenIds = model.Config.EosTokenIds });
        var a = Logits(model); var b = Logits(loaded);
        float tol = dtype == DType.BF16 ? 5e-2f : 1e-6f;
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tol, $"logit {i}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public void Value_head_round_trips_in_sequence_classification_layout()
    {
        using var body = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 8);
        using var rm = ValueHeadModel.Create(body, seed: 1);
        rm.Save(_dir);
        string config = File.ReadAllText(Path.Combine(_dir, "config.json"));
        Assert.Contains("LlamaForSequenceClassification", config);
        using (var ckpt = SafetensorsCheckpoint.Open(_dir))
        {
            Assert.Contains("score.weight", ckpt.Names);
            Assert.DoesNotContain("lm_head.weight", ckpt.Names);
        }
        using var loaded = ValueHeadModel.Load(_dir);
        using var scope = new TensorScope();
        var mask = Tensor.FromArray([1, 1, 1, 1, 0, 0], 2, 3);
        var a = rm.SequenceScores([1, 2, 3, 4, 5, 6], 2, 3, mask).ToArray();
        var b = loaded.SequenceScores([1, 2, 3, 4, 5, 6], 2, 3, mask).ToArray();
        Assert.Equal(a, b);
        var values = rm.Values([1, 2, 3, 4, 5, 6], 2, 3, mask).ToArray();
        Assert.Equal(values[2], a[0]); // row 0: last real token is position 2
        Assert.Equal(values[3], a[1]); // row 1: only position 0 is real
        // A reward model is not a causal LM: loading it as one fails at once, not at its first LmHead call.
        Assert.Contains("reward/value model", Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(_dir)).Message);
    }

    [Fact]
    public void Errors_name_the_file_and_the_key()
    {
        using (var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama))) HuggingFaceFolder.Save(model, _dir);
        string configPath = Path.Combine(_dir, "config.json");
        string good = File.ReadAllText(configPath);

        File.WriteAllText(configPath, good.Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        var e = Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("model.layers.2.input_layernorm.weight", e.Message);

        File.WriteAllText(configPath, good.Replace("\"intermediate_size\": 160", "\"intermediate_size\": 100"));
        e = Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("gate_proj.weight", e.Message);
        Assert.Contains("[160, 64]", e.Message);

        File.WriteAllText(configPath, good.Replace("\"model_type\": \"llama\"", "\"model_type\": \"mamba\""));
        e = Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("config.json: model_type: 'mamba' is not supported", e.Message);

        File.WriteAllText(configPath, good.Replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
        e = Assert.Throws<ModelFormatException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("num_key_value_heads must divide num_attention_heads (got 3 and 4)", e.Message);

        File.WriteAllText(configPath, good);
        File.WriteAllBytes(Path.Combine(_dir, "model.safetensors"), File.ReadAllBytes(Path.Combine(_dir, "model.safetensors"))[..5000]);
        var s = Assert.Throws<SafetensorsException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("model.safetensors", s.Message);
    }
}
