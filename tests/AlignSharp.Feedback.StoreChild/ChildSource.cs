using AlignSharp.Feedback;

namespace AlignSharp.Feedback.StoreChild;

/// <summary>
/// A deterministic signal source whose labels are big enough (a long rationale, nested provenance, parts) that a
/// batch of them takes a while to write, so a kill lands inside a transaction; every 7th item does not apply.
/// Shared with the test, which checks each stored label against <see cref="Expected"/>.
/// </summary>
public sealed class ChildSource : ISignalSource
{
    public string Name => "child";

    public string Fingerprint => SignalFingerprint.Of(Name, 1);

    /// <summary>The item of index <paramref name="i"/>: four responses per prompt.</summary>
    public static SignalItem Item(int i) =>
        new(new PromptRecord($"p{i / 4}", $"question {i / 4}", "test", new Dictionary<string, string> { ["answer"] = (i / 4).ToString() }), $"answer {i}");

    public FeedbackLabel? Score(PromptRecord prompt, string response) => Expected(int.Parse(response["answer ".Length..]));

    /// <summary>The label of item <paramref name="i"/>.</summary>
    public static FeedbackLabel? Expected(int i) => i % 7 == 0 ? null : new FeedbackLabel(
        (i % 10) / 10.0,
        $"item {i}: " + new string('r', 400),
        new Provenance("child", SignalKind.Composite, Fingerprint: "child@v1", Seed: i,
            Inputs: [new Provenance("inner", SignalKind.Verifier, PrincipleId: $"p{i % 3}", ElapsedMs: i / 8.0)],
            CreatedAt: new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(i), ElapsedMs: i / 16.0),
        new Dictionary<string, double> { ["inner"] = (i % 10) / 10.0 });
}
