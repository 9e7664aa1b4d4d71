using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Tests.Transformers;

/// <summary>
/// GC.GetTotalAllocatedBytes counts every thread of the process, so this measurement runs alone: in a collection that
/// xunit runs after the parallel ones, with nothing else allocating (in parallel another test's allocations were
/// counted, and it failed by chance).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadingMemoryCollection { public const string Name = "loading memory (runs alone)"; }

[Collection(LoadingMemoryCollection.Name)]
public class LoadingMemoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-loadmem-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Loading_holds_one_float32_copy_of_the_weights()
    {
        var config = ModelPresets.Get("small", Architecture.Llama);
        using (var model = TransformerModel.Create(config, seed: 1)) HuggingFaceFolder.Save(model, _dir, DType.BF16);
        long weights = WeightLayout.Weights(config).Sum(w => (long)w.Shape.Aggregate(1, (a, b) => a * b)) * sizeof(float);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        using var loaded = HuggingFaceFolder.Load(_dir);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated <= 1.2 * weights, $"loading allocated {allocated / 1e6:F1} MB for {weights / 1e6:F1} MB of float32 weights");
    }
}
