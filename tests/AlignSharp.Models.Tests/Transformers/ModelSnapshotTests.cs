using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Transformers;

/// <summary>
/// <see cref="TransformerModel.Snapshot"/>: an in-memory copy of the starting weights (what a DPO/KTO reference is
/// when every weight trains), equal bitwise to the model loaded from its folder and independent of the original.
/// </summary>
public class ModelSnapshotTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-snapshot-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static float[] Logits(TransformerModel model, int[] ids)
    {
        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        return model.Forward(ids, 1, ids.Length).ToArray();
    }

    [Theory]
    [InlineData(Architecture.Llama)]
    [InlineData(Architecture.Qwen2)]
    [InlineData(Architecture.Gpt2)]
    public void A_snapshot_equals_the_model_loaded_from_its_folder_and_survives_changes_to_the_original(Architecture arch)
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", arch), seed: 11);
        HuggingFaceFolder.Save(model, _dir);
        using var snapshot = model.Snapshot();
        Directory.Delete(_dir, true); // a snapshot reads no file

        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        var start = Logits(model, ids);
        Assert.True(start.AsSpan().SequenceEqual(Logits(snapshot, ids)), "snapshot and original differ");
        Assert.Equal(model.Config, snapshot.Config);
        foreach (var (name, p) in model.Parameters)
        {
            Assert.False(snapshot.Parameters[name].RequiresGrad, $"{name}: a snapshot is frozen");
            p.Span.Fill(0.25f); // "training" the original
        }
        Assert.True(start.AsSpan().SequenceEqual(Logits(snapshot, ids)), "the snapshot shares storage with the original");
        Assert.False(start.AsSpan().SequenceEqual(Logits(model, ids)));
    }

    [Fact]
    public void A_snapshot_of_the_saved_folder_matches_bitwise_what_loading_it_again_gives()
    {
        using (var created = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 12)) HuggingFaceFolder.Save(created, _dir);
        using var loaded = HuggingFaceFolder.Load(_dir);
        using var again = HuggingFaceFolder.Load(_dir);
        using var snapshot = loaded.Snapshot();
        foreach (var (name, p) in again.Parameters)
            Assert.True(p.Span.SequenceEqual(snapshot.Parameters[name].Span), $"{name} differs");
    }

    [Fact]
    public void A_snapshot_leaves_the_adapters_behind()
    {
        using var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Qwen2), seed: 13);
        using var adapters = LoraAdapters.Create(model, new LoraConfig(Rank: 2, Alpha: 4), seed: 1);
        model.Adapters = adapters;
        using var snapshot = model.Snapshot();
        Assert.Null(snapshot.Adapters);
        Assert.Same(adapters, model.Adapters);
    }
}
