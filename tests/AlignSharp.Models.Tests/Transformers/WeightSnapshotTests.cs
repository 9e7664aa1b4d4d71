using AlignSharp.Models.Transformers;

namespace AlignSharp.Models.Tests.Transformers;

/// <summary>
/// Golden snapshots of tensor names and shapes (as stored in checkpoints) per architecture and preset, so a change
/// to the Hugging Face layout can never slip in unnoticed. Refresh deliberately with ALIGNSHARP_UPDATE_SNAPSHOTS=1.
/// </summary>
public class WeightSnapshotTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var arch in new[] { "Llama", "Qwen2", "Gpt2" })
            foreach (var preset in new[] { "tiny", "bench-decode" }) data.Add(arch, preset);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Names_and_shapes_match_the_snapshot(string arch, string preset)
    {
        var config = ModelPresets.Get(preset, Enum.Parse<Architecture>(arch));
        var text = string.Join("\n", WeightLayout.Weights(config).Select(w => $"{w.Name} [{string.Join(", ", w.Shape)}]")) + "\n";
        string file = $"{arch.ToLowerInvariant()}-{preset}.txt";
        if (Environment.GetEnvironmentVariable("ALIGNSHARP_UPDATE_SNAPSHOTS") == "1")
        {
            string source = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Fixtures", "snapshots"));
            Directory.CreateDirectory(source);
            File.WriteAllText(Path.Combine(source, file), text);
        }
        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "snapshots", file)), text);
    }
}
