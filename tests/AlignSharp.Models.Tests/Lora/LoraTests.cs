using System.Text.Json;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Lora;

public class LoraTests
{
    private static string Models => Path.Combine(AppContext.BaseDirectory, "Fixtures", "models");

    private static float[] Logits(TransformerModel model, int[] ids)
    {
        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        return model.Forward(ids, 1, ids.Length).ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, float tol = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Loads_a_peft_adapter_and_matches_pytorch()
    {
        using var model = HuggingFaceFolder.Load(Path.Combine(Models, "llama_gqa"));
        model.Adapters = PeftFormat.Load(Path.Combine(Models, "llama_gqa_lora"), model);
        model.Adapters.Training = false;
        Assert.Equal(4, model.Adapters.Modules.Count);
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Models, "llama_gqa_lora", "expected.json"))).RootElement;
        var ids = expected.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        AssertClose(expected.GetProperty("logits").EnumerateArray().Select(x => x.GetSingle()).ToArray(), Logits(model, ids));
    }

    [Fact]
    public void Fresh_adapters_change_nothing_and_merging_equals_the_adapter()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Qwen2), seed: 3);
        int[] ids = [1, 5, 9, 2, 7];
        var before = Logits(model, ids);
        model.Adapters = LoraAdapters.Create(model, new LoraConfig(Rank: 4, Alpha: 8, TargetRegex: @".*\.(q_proj|down_proj)"), seed: 1);
        Assert.All(model.Adapters.Modules.Keys, m => Assert.Matches(@"(q_proj|down_proj)$", m));
        AssertClose(before, Logits(model, ids), 1e-6f);

        var rng = new Rng(4);
        foreach (var (_, b) in model.Adapters.Modules.Values) rng.FillNormal(b.Span, 0, 0.5f);
        var adapted = Logits(model, ids);
        Assert.True(adapted.Zip(before).Any(p => Math.Abs(p.First - p.Second) > 1e-3f), "a non-zero B must change the output");
        model.Adapters.MergeInto(model);
        Assert.Null(model.Adapters);
        AssertClose(adapted, Logits(model, ids));
    }

    [Fact]
    public void Only_adapters_train_while_the_base_stays_frozen()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 5);
        model.SetTrainable(false);
        var frozen = model.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        model.Adapters = LoraAdapters.Create(model, new LoraConfig(Rank: 4, Alpha: 8, Dropout: 0.1f), seed: 2);
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6], targets = [1, 4, 1, 5, 9, 2, 6, 5];
        float Step()
        {
            using var scope = new TensorScope();
            var loss = Ops.CrossEntropy(model.Forward(ids, 1, ids.Length), targets);
            loss.Backward();
            foreach (var p in model.Adapters!.Parameters)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p.Grad!.Span, -0.05f, p.Span, p.Span);
                p.ZeroGrad();
            }
            return loss.Item();
        }
        float first = Step();
        for (int i = 0; i < 20; i++) Step();
        Assert.True(Step() < first, "the adapter should fit the batch");
        foreach (var (name, p) in model.Parameters)
        {
            Assert.Null(p.Grad);
            Assert.Equal(frozen[name], p.ToArray());
        }
        Assert.All(model.Adapters!.Modules.Values, m => Assert.Contains(m.B.ToArray(), v => v != 0f));
    }

    [Fact]
    public void Peft_save_then_load_round_trips()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Gpt2), seed: 6);
        var adapters = LoraAdapters.Create(model, new LoraConfig(Rank: 2, Alpha: 4, TargetModules: ["c_attn", "c_fc"], UseRsLora: true), seed: 3);
        foreach (var (_, b) in adapters.Modules.Values) new Rng(1).FillNormal(b.Span, 0, 0.1f);
        string dir = Path.Combine(Path.GetTempPath(), "alignsharp-peft-" + Guid.NewGuid().ToString("N"));
        try
        {
            PeftFormat.Save(adapters, dir, baseModel: "tiny-gpt2");
            var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json"))).RootElement;
            Assert.Equal("LORA", config.GetProperty("peft_type").GetString());
            Assert.Equal(2, config.GetProperty("r").GetInt32());
            Assert.True(config.GetProperty("use_rslora").GetBoolean());
            Assert.True(config.GetProperty("fan_in_fan_out").GetBoolean()); // GPT-2's Conv1D, as PEFT writes it
            Assert.Equal(["c_attn", "c_fc"], config.GetProperty("target_modules").EnumerateArray().Select(x => x.GetString()!).ToArray());
            using (var file = AlignSharp.Models.Checkpoints.SafetensorsFile.Open(Path.Combine(dir, "adapter_model.safetensors")))
                Assert.Contains("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", file.Tensors.Keys);
            var loaded = PeftFormat.Load(dir, model);
            Assert.Equal(adapters.Config.Scale, loaded.Config.Scale);
            foreach (var (module, (a, b)) in adapters.Modules)
            {
                Assert.Equal(a.ToArray(), loaded.Modules[module].A.ToArray());
                Assert.Equal(b.ToArray(), loaded.Modules[module].B.ToArray());
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Unmatched_targets_are_a_clear_error()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama));
        var e = Assert.Throws<ModelFormatException>(() => LoraAdapters.Create(model, new LoraConfig(TargetModules: ["query_key_value"])));
        Assert.Contains("query_key_value", e.Message);
    }
}
