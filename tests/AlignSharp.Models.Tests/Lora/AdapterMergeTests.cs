using System.Text.Json;
using System.Text.Json.Nodes;
using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Lora;

/// <summary>Merging an adapter into its base (PEFT's merge_and_unload) and the errors of a mismatched adapter.</summary>
public sealed class AdapterMergeTests : IDisposable
{
    private static string Models => Path.Combine(AppContext.BaseDirectory, "Fixtures", "models");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-merge-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static float[] Logits(TransformerModel model, int[] ids)
    {
        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        return model.Forward(ids, 1, ids.Length).ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, float tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>A random non-zero adapter (as after training) for <paramref name="model"/>, saved to a new folder.</summary>
    private string SaveAdapter(TransformerModel model, LoraConfig config, string name, string? baseModel = null, ulong seed = 1)
    {
        using var adapters = LoraAdapters.Create(model, config, seed);
        var rng = new Rng(seed + 10);
        foreach (var (_, b) in adapters.Modules.Values) rng.FillNormal(b.Span, 0, 0.3f);
        string dir = Path.Combine(_dir, name);
        PeftFormat.Save(adapters, dir, baseModel);
        return dir;
    }

    private string SaveModel(ModelConfig config, string name, ulong seed = 3, DType dtype = DType.F32)
    {
        using var model = TransformerModel.Create(config, seed);
        string dir = Path.Combine(_dir, name);
        HuggingFaceFolder.Save(model, dir, dtype);
        return dir;
    }

    [Fact]
    public void Merged_folder_reproduces_the_peft_fixture_logits_and_the_unmerged_adapter()
    {
        string baseDir = Path.Combine(Models, "llama_gqa"), adapterDir = Path.Combine(Models, "llama_gqa_lora"), outDir = Path.Combine(_dir, "merged");
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(adapterDir, "expected.json"))).RootElement;
        var ids = expected.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();

        var (modules, dtype) = AdapterMerge.Save(baseDir, adapterDir, outDir);
        Assert.Equal(4, modules);
        Assert.Equal(DType.F32, dtype);
        Assert.False(File.Exists(Path.Combine(outDir, "adapter_config.json")));
        using var merged = HuggingFaceFolder.Load(outDir);
        Assert.Null(merged.Adapters);
        var mergedLogits = Logits(merged, ids);
        // The plain-torch reference (tools/fixtures/gen_model_fixtures.py merges in float64), to the fixtures' tolerance.
        AssertClose(expected.GetProperty("logits").EnumerateArray().Select(x => x.GetSingle()).ToArray(), mergedLogits, 1e-4f);

        using var unmerged = HuggingFaceFolder.Load(baseDir);
        unmerged.Adapters = PeftFormat.Load(adapterDir, unmerged);
        unmerged.Adapters.Training = false;
        AssertClose(Logits(unmerged, ids), mergedLogits, 1e-5f);
    }

    [Fact]
    public void Merge_is_w_plus_scaling_times_b_a_element_by_element()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 4);
        var config = new LoraConfig(Rank: 3, Alpha: 5, TargetModules: ["o_proj", "up_proj"]);
        using var adapters = LoraAdapters.Create(model, config, seed: 2);
        foreach (var (_, b) in adapters.Modules.Values) new Rng(7).FillNormal(b.Span, 0, 0.5f);
        var before = adapters.Modules.Keys.ToDictionary(m => m, m => model.Parameters[m + ".weight"].ToArray());
        var factors = adapters.Modules.ToDictionary(m => m.Key, m => (A: m.Value.A.ToArray(), B: m.Value.B.ToArray(), In: m.Value.A.Dim(1)));

        adapters.MergeInto(model);
        double scaling = 5.0 / 3; // PEFT: lora_alpha / r
        foreach (var (module, (a, b, fin)) in factors)
        {
            var w = model.Parameters[module + ".weight"].ToArray();
            for (int o = 0; o < w.Length / fin; o++)
                for (int i = 0; i < fin; i++)
                {
                    double delta = 0;
                    for (int k = 0; k < 3; k++) delta += (double)b[o * 3 + k] * a[k * fin + i];
                    double want = before[module][o * fin + i] + scaling * delta;
                    Assert.True(Math.Abs(w[o * fin + i] - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"{module}[{o}, {i}]: {w[o * fin + i]} vs {want}");
                }
        }
    }

    [Fact]
    public void Scaling_is_computed_in_double_as_peft_does()
    {
        // float32(1 / math.sqrt(7)) and float32(0.1 / math.sqrt(6)): PEFT's rsLoRA scaling; float arithmetic misses by 1 ulp.
        Assert.Equal(0.37796446681022644f, new LoraConfig(Rank: 7, Alpha: 1, UseRsLora: true).Scale);
        Assert.Equal(0.040824830532073975f, new LoraConfig(Rank: 6, Alpha: 0.1, UseRsLora: true).Scale);
        Assert.Equal(0.03333333507180214f, new LoraConfig(Rank: 3, Alpha: 0.1).Scale);
    }

    [Fact]
    public void Gpt2_conv1d_merge_equals_the_adapter_and_keeps_the_dtype()
    {
        var config = ModelPresets.Get("tiny", Architecture.Gpt2);
        string baseDir = SaveModel(config, "gpt2", dtype: DType.BF16);
        using var base_ = HuggingFaceFolder.Load(baseDir);
        string adapterDir = SaveAdapter(base_, new LoraConfig(Rank: 4, Alpha: 8, TargetModules: ["c_attn", "c_proj", "c_fc"], UseRsLora: true), "gpt2-lora", baseDir);
        int[] ids = [5, 1, 9, 2, 6, 5, 3];
        base_.Adapters = PeftFormat.Load(adapterDir, base_);
        base_.Adapters.Training = false;
        var adapted = Logits(base_, ids);

        string outDir = Path.Combine(_dir, "gpt2-merged");
        var (_, dtype) = AdapterMerge.Save(baseDir, adapterDir, outDir, DType.F32);
        Assert.Equal(DType.F32, dtype);
        using (var merged = HuggingFaceFolder.Load(outDir)) AssertClose(adapted, Logits(merged, ids), 1e-5f);
        // By default the merged folder keeps the base's dtype (one rounding of W + s·B·A, as PEFT's merge into bf16 weights).
        Assert.Equal(DType.BF16, AdapterMerge.Save(baseDir, adapterDir, Path.Combine(_dir, "gpt2-bf16")).DType);
        Assert.Equal(DType.BF16, AdapterMerge.StoredDType(Path.Combine(_dir, "gpt2-bf16")));
        Assert.Contains("\"bfloat16\"", File.ReadAllText(Path.Combine(_dir, "gpt2-bf16", "config.json")));
    }

    [Fact]
    public void Merge_refuses_a_non_empty_output_folder()
    {
        string outDir = Path.Combine(_dir, "taken");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "mine");
        var e = Assert.Throws<IOException>(() => AdapterMerge.Save(Path.Combine(Models, "llama_gqa"), Path.Combine(Models, "llama_gqa_lora"), outDir));
        Assert.Contains("not empty", e.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(outDir, "keep.txt")));
    }

    [Fact]
    public void An_adapter_for_a_module_the_base_lacks_names_the_tensor_and_the_fix()
    {
        var tiny = ModelPresets.Get("tiny", Architecture.Llama);
        using var deeper = TransformerModel.Create(tiny with { NumLayers = 3 }, seed: 1);
        string adapterDir = SaveAdapter(deeper, new LoraConfig(Rank: 2, Alpha: 4, TargetModules: ["q_proj"]), "deeper-lora");
        using var model = TransformerModel.Create(tiny, seed: 1);
        var e = Assert.Throws<ModelFormatException>(() => PeftFormat.Load(adapterDir, model));
        Assert.Contains("adapter_model.safetensors", e.Message);
        Assert.Contains("model.layers.2.self_attn.q_proj", e.Message);
        Assert.Contains("use the base the adapter was trained on", e.Message);
    }

    [Fact]
    public void An_adapter_whose_shapes_do_not_fit_the_base_names_both_shapes()
    {
        using var tiny = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 1);
        string adapterDir = SaveAdapter(tiny, new LoraConfig(Rank: 2, Alpha: 4, TargetModules: ["v_proj"]), "tiny-lora");
        using var other = HuggingFaceFolder.Load(Path.Combine(Models, "llama_gqa"));
        var e = Assert.Throws<ModelFormatException>(() => PeftFormat.Load(adapterDir, other));
        Assert.Contains("adapter_model.safetensors", e.Message);
        Assert.Contains("model.layers.0.self_attn.v_proj", e.Message);
        Assert.Contains("base layer is [16, 32]", e.Message);
        Assert.Contains("use the base the adapter was trained on", e.Message);
    }

    [Fact]
    public void Missing_files_and_unsupported_options_name_the_file_and_key()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 1);
        Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        var e = Assert.Throws<ModelFormatException>(() => PeftFormat.Load(Path.Combine(_dir, "empty"), model));
        Assert.Contains("no adapter_config.json", e.Message);

        string adapterDir = SaveAdapter(model, new LoraConfig(Rank: 2, Alpha: 4, TargetModules: ["q_proj"]), "lora");
        string configPath = Path.Combine(adapterDir, "adapter_config.json");
        string original = File.ReadAllText(configPath);
        void Edit(string key, JsonNode? value)
        {
            var c = JsonNode.Parse(original)!.AsObject();
            c[key] = value;
            File.WriteAllText(configPath, c.ToJsonString());
        }
        foreach (var (key, value) in new (string, JsonNode?)[] { ("use_dora", true), ("lora_bias", true), ("rank_pattern", new JsonObject { ["q_proj"] = 4 }), ("peft_type", "IA3"), ("r", 3) })
        {
            Edit(key, value);
            e = Assert.Throws<ModelFormatException>(() => PeftFormat.Load(adapterDir, model));
            Assert.Contains("adapter_config.json", e.Message);
            Assert.Contains(key, e.Message);
        }
        File.WriteAllText(configPath, original);

        // A tensor that is not lora_A/lora_B (here a modules_to_save copy) would be silently dropped: refuse it.
        string weights = Path.Combine(adapterDir, "adapter_model.safetensors");
        using (var file = SafetensorsFile.Open(weights))
        {
            var kept = file.Tensors.Keys.Select(n => new TensorToWrite(n, file.Tensors[n].Shape, file.ReadFloat32(n))).ToList();
            file.Dispose();
            kept.Add(new TensorToWrite("base_model.model.lm_head.modules_to_save.default.weight", [2, 2], new float[4]));
            SafetensorsWriter.Write(weights, kept);
        }
        e = Assert.Throws<ModelFormatException>(() => PeftFormat.Load(adapterDir, model));
        Assert.Contains("modules_to_save", e.Message);

        File.Delete(weights);
        e = Assert.Throws<ModelFormatException>(() => PeftFormat.Load(adapterDir, model));
        Assert.Contains("no adapter_model.safetensors", e.Message);
    }

    [Fact]
    public void The_base_model_resolves_from_the_current_directory_then_the_adapter_folder()
    {
        string baseDir = SaveModel(ModelPresets.Get("tiny", Architecture.Qwen2), "base");
        using var model = HuggingFaceFolder.Load(baseDir);
        string adapterDir = SaveAdapter(model, new LoraConfig(Rank: 2, Alpha: 4), "lora", baseModel: "../base");
        Assert.Equal(Path.GetFullPath(baseDir), PeftAdapterConfig.Read(adapterDir).ResolveBaseModel(null, "FIX"));
        Assert.Equal(baseDir, PeftAdapterConfig.Read(adapterDir).ResolveBaseModel(baseDir, "FIX"));

        string absolute = SaveAdapter(model, new LoraConfig(Rank: 2, Alpha: 4), "lora-abs", baseModel: Path.GetFullPath(baseDir));
        Assert.Equal(Path.GetFullPath(baseDir), PeftAdapterConfig.Read(absolute).ResolveBaseModel(null, "FIX"));

        string missing = SaveAdapter(model, new LoraConfig(Rank: 2, Alpha: 4), "lora-hub", baseModel: "org/some-model");
        var e = Assert.Throws<ModelFormatException>(() => PeftAdapterConfig.Read(missing).ResolveBaseModel(null, "give --model BASE"));
        Assert.Contains("base_model_name_or_path 'org/some-model'", e.Message);
        Assert.Contains("adapter_config.json", e.Message);
        Assert.EndsWith("give --model BASE", e.Message);

        string unset = SaveAdapter(model, new LoraConfig(Rank: 2, Alpha: 4), "lora-unset");
        e = Assert.Throws<ModelFormatException>(() => PeftAdapterConfig.Read(unset).ResolveBaseModel(null, "give --model BASE"));
        Assert.Contains("base_model_name_or_path is not set", e.Message);
        e = Assert.Throws<ModelFormatException>(() => PeftAdapterConfig.Read(unset).ResolveBaseModel(Path.Combine(_dir, "nope"), "give --model BASE"));
        Assert.Contains("not a model folder", e.Message);
    }
}
