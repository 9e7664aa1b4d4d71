namespace AlignSharp.Feedback.Tests;

public class SignalSourceTests
{
    /// <summary>Scores by response length, slower for shorter responses so concurrent calls finish out of order.</summary>
    sealed class Length : ISignalSource
    {
        public int Calls;
        public string Name => "length";
        public string Fingerprint => SignalFingerprint.Of(Name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            response.Length == 0 ? null : new FeedbackLabel(response.Length, "", new Provenance(Name, SignalKind.Verifier));
        public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            await Task.Delay(20 - response.Length, cancellationToken);
            return Score(prompt, response);
        }
    }

    [Fact]
    public async Task Batches_keep_the_items_order_at_any_concurrency()
    {
        var items = Enumerable.Range(0, 12).Select(i => new SignalItem(Prompts.Make(), new string('x', i))).ToArray();
        foreach (int concurrency in new[] { 1, 4, 12 })
        {
            var source = new Length();
            var labels = await ((ISignalSource)source).ScoreBatchAsync(items, concurrency);
            Assert.Null(labels[0]);
            Assert.Equal(Enumerable.Range(1, 11).Select(i => (double)i), labels.Skip(1).Select(l => l!.Score));
            Assert.Equal(12, source.Calls);
        }
        await Assert.ThrowsAsync<FeedbackException>(async () => await ((ISignalSource)new Length()).ScoreBatchAsync(items, 0));
    }

    const string Yaml = """
        name: c
        principles:
          - {id: a, text: Be kind., check: kind, weight: 2}
          - {id: b, text: Be brief., check: brief}
        """;

    static readonly Dictionary<string, ISignalSource> Checks = new() { ["kind"] = new Length(), ["brief"] = new Length() };

    [Fact]
    public void Fingerprints_are_stable_and_change_with_any_setting()
    {
        string Of(string yaml) => new ConstitutionSource(Constitution.Parse(yaml, "c.yaml", Checks)).Fingerprint;
        Assert.Equal(Of(Yaml), Of(Yaml));
        Assert.StartsWith("constitution:c@v1#", Of(Yaml));
        Assert.NotEqual(Of(Yaml), Of(Yaml.Replace("weight: 2", "weight: 3")));
        Assert.NotEqual(Of(Yaml), Of(Yaml.Replace("Be brief.", "Be short.")));
        var a = new Length();
        Assert.NotEqual(new Lexicographic(a, new WeightedSum((a, 1))).Fingerprint, new Lexicographic(10, a, new WeightedSum((a, 1))).Fingerprint);
        Assert.NotEqual(new WeightedSum((a, 1)).Fingerprint, new WeightedSum((a, 2)).Fingerprint);
        Assert.Equal("length@v1", a.Fingerprint);
    }

    [Fact]
    public void A_principle_with_text_only_parses_but_a_programmatic_source_refuses_it_by_name()
    {
        var constitution = Constitution.Parse(Yaml + "\n  - {id: honest, text: Do not make things up.}\n", "c.yaml", Checks);
        Assert.Equal(["honest"], constitution.TextOnly.Select(p => p.Id));
        Assert.Null(constitution.Principles[^1].Check);
        var e = Assert.Throws<FeedbackException>(() => new ConstitutionSource(constitution));
        Assert.Contains("c.yaml:", e.Message);
        Assert.Contains("'honest' has text only", e.Message);
        Assert.Contains("kind, brief", e.Message);
    }

    [Fact]
    public void A_prompt_is_a_conversation_whose_text_is_the_last_user_turn()
    {
        var prompt = new PromptRecord("p", [new(Microsoft.Extensions.AI.ChatRole.System, "Be terse."), new(Microsoft.Extensions.AI.ChatRole.User, "Hi"),
            new(Microsoft.Extensions.AI.ChatRole.Assistant, "Hello."), new(Microsoft.Extensions.AI.ChatRole.User, "2+2?")], "math", new Dictionary<string, string>());
        Assert.Equal("2+2?", prompt.Text);
        Assert.Equal("x", new PromptRecord("q", "x", "", new Dictionary<string, string>()).Text);
    }
}
