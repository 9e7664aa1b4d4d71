using AlignSharp.Feedback;
using AlignSharp.Training.Data;
using AlignSharp.Training.Methods;
using AlignSharp.Training.Online;
using AlignSharp.Training.Tests.Methods;

namespace AlignSharp.Training.Tests.Online;

/// <summary>
/// reward_funcs specs resolved into reward functions: each spec goes to the resolver of its kind, weights follow the
/// specs, the errors name the entry, the spec and the kinds, and sources made for a run are disposed with it (also when
/// a later spec fails).
/// </summary>
public class OnlineRewardsTests : IDisposable
{
    private readonly TinyModel _tiny = new();
    public void Dispose() => _tiny.Dispose();

    /// <summary>A source that scores the completion's length and records its disposal.</summary>
    private sealed class LengthSource(string name) : ISignalSource, IDisposable
    {
        public bool Disposed { get; private set; }
        public string Name => name;
        public string Fingerprint => SignalFingerprint.Of(name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) => new(response.Length, "length", new Provenance(name, SignalKind.Verifier));
        public void Dispose() => Disposed = true;
    }

    /// <summary>Resolves length:NAME; any other argument is a bad spec.</summary>
    private sealed class TestResolver : IRewardSourceResolver
    {
        public List<LengthSource> Made { get; } = [];
        public IReadOnlyList<RewardSpecKind> Kinds { get; } = [new("length:NAME", "the completion's length")];
        public ISignalSource Resolve(string spec, string where)
        {
            string name = RewardSpec.ArgumentOf(spec) ?? "";
            if (name == "bad") throw new TrainingException($"{where}: bad length source");
            var source = new LengthSource(name);
            Made.Add(source);
            return source;
        }
    }

    [Fact]
    public void Specs_go_to_the_resolver_of_their_kind_with_their_weights()
    {
        var resolver = new TestResolver();
        using var rewards = OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["length:a", " length:b "], RewardWeights = [1f, -0.5f], RewardConcurrency = 3 }, resolver);
        Assert.Equal(["a", "b"], rewards.Functions.Functions.Select(f => f.Name));
        Assert.Equal([1f, -0.5f], rewards.Functions.Functions.Select(f => f.Weight));
        Assert.Equal(3, rewards.Functions.MaxConcurrency);
        Assert.Same(resolver.Made[0], rewards.Functions.Functions[0].Source);
        Assert.Equal(["rm:FOLDER", "length:NAME"], OnlineRewards.Kinds(resolver).Select(k => k.Syntax));
        rewards.Dispose();
        Assert.All(resolver.Made, s => Assert.True(s.Disposed));
    }

    [Fact]
    public void No_weights_means_one_each()
    {
        using var rewards = OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["length:a", "length:b"] }, new TestResolver());
        Assert.Equal([1f, 1f], rewards.Functions.Functions.Select(f => f.Weight));
    }

    [Fact]
    public void Errors_name_the_entry_the_spec_and_the_kinds()
    {
        var resolver = new TestResolver();
        var e = Assert.Throws<TrainingException>(() => OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["length:a", "lenght:b"] }, resolver));
        Assert.Equal("reward_funcs[1] 'lenght:b': unknown reward source kind 'lenght'; kinds: rm:FOLDER, length:NAME", e.Message);
        Assert.Empty(resolver.Made);   // every kind is checked before any source is made

        e = Assert.Throws<TrainingException>(() => OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["length:a", "length:b"], RewardWeights = [1f] }, resolver));
        Assert.Equal("reward_weights: 1 weight for 2 reward_funcs (length:a, length:b); give one weight per function, or leave reward_weights out (all 1)", e.Message);

        e = Assert.Throws<TrainingException>(() => OnlineRewards.Resolve(new OnlineRewardOptions(), resolver));
        Assert.StartsWith("reward_funcs: give at least one reward source", e.Message);
        Assert.Contains("rm:FOLDER, length:NAME", e.Message);

        e = Assert.Throws<TrainingException>(() => OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["length:a"] }, null));
        Assert.Equal("reward_funcs[0] 'length:a': unknown reward source kind 'length'; kinds: rm:FOLDER", e.Message);

        e = Assert.Throws<TrainingException>(() => OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["rm:"] }, null));
        Assert.Equal("reward_funcs[0] 'rm:': give the reward model folder after rm: (rm:runs/rm)", e.Message);

        string missing = _tiny.In("no-rm");
        e = Assert.Throws<TrainingException>(() => OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = [$"rm:{missing}"] }, null));
        Assert.Equal($"reward_funcs[0] 'rm:{missing}': {missing}: reward model folder not found", e.Message);
    }

    [Fact]
    public void Sources_made_before_a_failing_spec_are_disposed()
    {
        var resolver = new TestResolver();
        var e = Assert.Throws<TrainingException>(() => OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["length:a", "length:bad"] }, resolver));
        Assert.Equal("reward_funcs[1] 'length:bad': bad length source", e.Message);
        Assert.True(Assert.Single(resolver.Made).Disposed);
    }

    [Fact]
    public void Prompt_only_rows_encode_as_prompt_records_with_their_columns_as_metadata()
    {
        var encoder = ExampleTokenizer.FromFolder(_tiny.Folder);
        var rows = new JsonlDataset(TinyModel.Examples("prompts.jsonl"), DatasetKind.PromptOnly).ToList();
        using var rewards = OnlineRewards.Resolve(new OnlineRewardOptions { RewardFuncs = ["length:a"] }, new TestResolver());
        var examples = TrainingMethods.OnlineDpo.Encode(encoder, rows, TrainingMethods.OnlineDpo.DefaultArguments, 2, rewards.Functions);
        var online = TrainingMethods.OnlineDpo.OnlineOf(examples);
        Assert.Equal(rows.Count, examples.Count);
        Assert.Equal(2, examples.SkippedRows);
        Assert.Same(rewards.Functions, online.Rewards);
        Assert.Same(encoder, online.Encoder);
        var first = online.Prompts[0];
        Assert.Equal("What is 18 + 11? Give the number first.", first.Text);
        Assert.Equal("29", first.Get("answer"));
        Assert.Equal("arithmetic", first.Category);

        var e = Assert.Throws<ArgumentException>(() => TrainingMethods.OnlineDpo.Encode(encoder, rows, TrainingMethods.OnlineDpo.DefaultArguments));
        Assert.Contains("online_dpo samples completions and scores them: give its reward functions", e.Message);
        var wrong = Assert.Throws<ArgumentException>(() => TrainingMethods.Dpo.CreateTrainer(TrainingMethods.Dpo.DefaultArguments, null!, examples));
        Assert.Contains("dpo trains on preference pairs (EncodedExamples.ForPreference), not prompts with reward functions", wrong.Message);
        var kto = new JsonlDataset(TinyModel.Examples("kto.jsonl")).ToList();
        var rowError = Assert.Throws<TrainingException>(() => TrainingMethods.OnlineDpo.Encode(encoder, kto, TrainingMethods.OnlineDpo.DefaultArguments, 0, rewards.Functions));
        Assert.Contains("online_dpo reads prompt-only (\"prompt\") rows, not unpaired-preference", rowError.Message);
    }
}
