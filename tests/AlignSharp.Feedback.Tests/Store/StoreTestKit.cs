using AlignSharp.Feedback.Store;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Tests.Store;

/// <summary>
/// A deterministic source that counts every item it is asked to score (through any path): score = the response's
/// length mod 5 / 4, "does not apply" for responses starting with "n/a", a composite provenance with nested inputs.
/// </summary>
sealed class CountingSource(string name = "counting", int version = 1) : ISignalSource
{
    int _calls;

    public int Calls => _calls;

    public string Name => name;

    public string Fingerprint => SignalFingerprint.Of(name, version, "mod5");

    public FeedbackLabel? Score(PromptRecord prompt, string response)
    {
        Interlocked.Increment(ref _calls);
        if (response.StartsWith("n/a")) return null;
        double score = response.Length % 5 / 4.0;
        return new FeedbackLabel(score, $"length {response.Length} of {prompt.Id} — ü",
            new Provenance(name, SignalKind.Composite, PrincipleId: "a,b", Model: "judge-model", PromptTemplate: "t1", Seed: 42,
                Inputs: [new Provenance("a", SignalKind.Verifier, Fingerprint: "a@v1", ElapsedMs: 0.25),
                         new Provenance("b", SignalKind.Principle, PrincipleId: "b", Inputs: [new Provenance("b0", SignalKind.Judge, TemplateHash: "0123456789abcdef")])],
                Fingerprint: Fingerprint, TemplateHash: "fedcba9876543210", CreatedAt: new DateTimeOffset(2025, 3, 4, 5, 6, 7, 890, TimeSpan.FromHours(2)), ElapsedMs: 1.5),
            new Dictionary<string, double> { ["a"] = score, ["b"] = 1 - score / 3 });
    }
}

static class StoreTestKit
{
    /// <summary>A fresh empty folder, deleted by the returned handle.</summary>
    public static TempFolder Folder() => new();

    public static PromptRecord Prompt(int i, string category = "test") =>
        new($"p{i}", [new ChatMessage(ChatRole.System, "be brief"), new ChatMessage(ChatRole.User, $"question {i} — 世界")], category,
            new Dictionary<string, string> { ["answer"] = i.ToString(), ["harmful"] = "false" });

    public static SignalItem[] Items(int prompts, int responsesPerPrompt, int offset = 0) =>
        Enumerable.Range(offset, prompts).SelectMany(p => Enumerable.Range(0, responsesPerPrompt).Select(r => new SignalItem(Prompt(p), $"response {r}{new string('!', r)} to {p}"))).ToArray();

    /// <summary>Asserts two labels are equal in every field, provenance (nested inputs included) and parts compared in full.</summary>
    public static void SameLabel(FeedbackLabel? expected, FeedbackLabel? actual)
    {
        if (expected is null) { Assert.Null(actual); return; }
        Assert.NotNull(actual);
        Assert.Equal(expected.Score, actual.Score);
        Assert.Equal(expected.Rationale, actual.Rationale);
        Assert.Equal(LabelJson.Serialize(expected.Provenance), LabelJson.Serialize(actual.Provenance));
        SameProvenance(expected.Provenance, actual.Provenance);
        Assert.Equal(expected.Parts?.ToArray(), actual.Parts?.ToArray());
    }

    static void SameProvenance(Provenance expected, Provenance actual)
    {
        Assert.Equal(expected with { Inputs = null }, actual with { Inputs = null });
        Assert.Equal(expected.Inputs?.Count, actual.Inputs?.Count);
        for (int i = 0; i < (expected.Inputs?.Count ?? 0); i++) SameProvenance(expected.Inputs![i], actual.Inputs![i]);
    }
}

sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("alignsharp-store-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
