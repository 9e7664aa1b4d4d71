using AlignSharp.Feedback;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Tests.Online;

public class RewardFunctionsTests
{
    static PromptRecord Prompt(string id, params (string Key, string Value)[] metadata) =>
        new(id, $"question {id}", "", metadata.ToDictionary(m => m.Key, m => m.Value));

    static Rollout Rollout(PromptRecord prompt, string text) => new(prompt, [], [], [], text, FinishReason.Stop);

    static FeedbackLabel Label(string source, double score) => new(score, "", new Provenance(source, SignalKind.Verifier));

    /// <summary>Scores the response's length; does not apply to prompts with an "answer" (null there).</summary>
    sealed class LengthSource(string name = "length") : ISignalSource
    {
        public string Name => name;
        public string Fingerprint => name;
        public FeedbackLabel? Score(PromptRecord prompt, string response) => prompt.Get("answer") is null ? Label(name, response.Length) : null;
    }

    /// <summary>1 when the response is the prompt's "answer", 0 otherwise; null without an answer; unparsable for "?".</summary>
    sealed class AnswerSource : ISignalSource
    {
        public string Name => "answer";
        public string Fingerprint => "answer";
        public FeedbackLabel? Score(PromptRecord prompt, string response) => prompt.Get("answer") switch
        {
            null => null,
            _ when response == "?" => FeedbackLabel.UnparsableAnswer("?", new Provenance("answer", SignalKind.Judge)),
            var answer => Label("answer", response == answer ? 1 : 0),
        };
    }

    /// <summary>An async source whose earlier items take longer, so they finish in reverse order; counts items in flight.</summary>
    sealed class SlowSource(string name) : ISignalSource
    {
        int _inFlight;
        public int MaxInFlight;
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string Name => name;
        public string Fingerprint => name;
        public FeedbackLabel? Score(PromptRecord prompt, string response) => throw new InvalidOperationException("async only");

        public async ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            int now = Interlocked.Increment(ref _inFlight);
            lock (this) MaxInFlight = Math.Max(MaxInFlight, now);
            int index = int.Parse(prompt.Id);
            await Task.Delay(10 * (8 - index), cancellationToken);
            Interlocked.Decrement(ref _inFlight);
            return Label(name, 100 + index);
        }
    }

    /// <summary>A synchronous source that blocks until another source has started: scoring the functions one after another would time out.</summary>
    sealed class WaitingSource(Task other) : ISignalSource
    {
        public string Name => "waiting";
        public string Fingerprint => "waiting";
        public FeedbackLabel? Score(PromptRecord prompt, string response) =>
            other.Wait(TimeSpan.FromSeconds(10)) ? Label("waiting", 1) : throw new TimeoutException("the other reward function never started");
    }

    [Fact]
    public async Task Scores_every_function_over_every_rollout_in_order_with_NaN_where_a_source_does_not_apply()
    {
        var plain = Prompt("p");
        var math = Prompt("m", ("answer", "42"));
        var rollouts = new[] { Rollout(plain, "abc"), Rollout(math, "42"), Rollout(math, "41"), Rollout(math, "?"), Rollout(plain, "") };
        var functions = new RewardFunctions([new(new LengthSource(), 0.5f), new(new AnswerSource(), 2f)]);

        var table = await functions.ScoreAsync(rollouts);

        Assert.Equal((5, 2), (table.N, table.F));
        Assert.Equal(["length", "answer"], table.Names);
        float nan = float.NaN;
        Assert.Equal([3f, nan, nan, 1f, nan, 0f, nan, nan, 0f, nan], table.Scores);
        Assert.Equal([3f, nan, nan, nan, 0f], table.Column(0));
        Assert.Equal(1f, table[1, 1]);
        // Σ w·score over the functions that apply; the unparsable "?" row has none: NaN, not TRL's nansum 0.
        Assert.Equal([1.5f, 2f, 0f, nan, 0f], table.Weighted());
    }

    [Fact]
    public async Task Metrics_are_TRL_s_nanmean_and_Bessel_nanstd_per_function_and_of_the_weighted_reward()
    {
        var plain = Prompt("p");
        var math = Prompt("m", ("answer", "42"));
        var rollouts = new[] { Rollout(plain, "abc"), Rollout(plain, "a"), Rollout(math, "42"), Rollout(math, "41"), Rollout(math, "?") };
        var table = await new RewardFunctions([new(new LengthSource(), 0.5f), new(new AnswerSource(), 2f)]).ScoreAsync(rollouts);

        var m = table.Metrics();
        Assert.Equal(["rewards/length/mean", "rewards/length/std", "rewards/answer/mean", "rewards/answer/std", "reward", "reward_std"], m.Keys);
        Assert.Equal(2.0, m["rewards/length/mean"], 12);                 // {3, 1}
        Assert.Equal(Math.Sqrt(2.0), m["rewards/length/std"], 12);       // √((1 + 1) / (2 − 1))
        Assert.Equal(0.5, m["rewards/answer/mean"], 12);                 // {1, 0}
        Assert.Equal(Math.Sqrt(0.5), m["rewards/answer/std"], 12);
        // Weighted: {1.5, 0.5, 2, 0} (the unparsable row excluded): mean 1, std √((0.25 + 0.25 + 1 + 1) / 3).
        Assert.Equal(1.0, m["reward"], 6);
        Assert.Equal(Math.Sqrt(2.5 / 3), m["reward_std"], 6);
    }

    [Fact]
    public void A_function_that_applies_to_one_rollout_has_a_NaN_std_and_to_none_a_NaN_mean()
    {
        var table = new RewardTable([float.NaN, 2f, float.NaN, float.NaN], 2, 2, ["a", "b"], [1f, 1f]);
        var m = table.Metrics();
        Assert.True(double.IsNaN(m["rewards/a/mean"]) && double.IsNaN(m["rewards/a/std"]));
        Assert.Equal(2.0, m["rewards/b/mean"]);
        Assert.True(double.IsNaN(m["rewards/b/std"]));
        Assert.Equal([2f, float.NaN], table.Weighted());
    }

    [Fact]
    public async Task A_slow_async_source_keeps_rollout_order_and_runs_requests_concurrently()
    {
        var rollouts = Enumerable.Range(0, 8).Select(i => Rollout(Prompt(i.ToString()), "x")).ToArray();
        var slow = new SlowSource("slow");
        var table = await new RewardFunctions([new(slow)], maxConcurrency: 4).ScoreAsync(rollouts);

        Assert.Equal(Enumerable.Range(0, 8).Select(i => 100f + i), table.Scores);
        Assert.InRange(slow.MaxInFlight, 2, 4);
    }

    [Fact]
    public async Task Two_functions_run_in_parallel_and_each_keeps_its_order()
    {
        var rollouts = Enumerable.Range(0, 8).Select(i => Rollout(Prompt(i.ToString()), "xy")).ToArray();
        var slow = new SlowSource("slow");
        // "waiting" blocks its thread until "slow" has started: it only finishes if the two run at the same time.
        var functions = new RewardFunctions([new(new WaitingSource(slow.Started.Task)), new(slow), new(new LengthSource())], maxConcurrency: 2);

        var table = await functions.ScoreAsync(rollouts);

        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(1f, table[i, 0]);
            Assert.Equal(100f + i, table[i, 1]);
            Assert.Equal(2f, table[i, 2]);
        }
    }

    [Fact]
    public async Task No_rollouts_give_an_empty_table()
    {
        var table = await new RewardFunctions([new(new LengthSource())]).ScoreAsync([]);
        Assert.Equal((0, 1), (table.N, table.F));
        Assert.Empty(table.Weighted());
        Assert.True(double.IsNaN(table.Metrics()["reward"]));
    }

    [Fact]
    public void Two_sources_with_one_name_a_non_finite_weight_or_no_function_are_refused()
    {
        var e = Assert.Throws<TrainingException>(() => new RewardFunctions([new(new LengthSource("judge")), new(new LengthSource("judge"), 2f)]));
        Assert.Equal("reward_funcs: 2 reward functions are named 'judge'; metrics (rewards/{name}/mean) are keyed by name, so give each source a distinct name", e.Message);
        e = Assert.Throws<TrainingException>(() => new RewardFunctions([new(new LengthSource(), float.NaN)]));
        Assert.Equal("reward_weights: the weight of 'length' must be a finite number (got NaN)", e.Message);
        Assert.Throws<TrainingException>(() => new RewardFunctions([new(new LengthSource(), float.PositiveInfinity)]));
        e = Assert.Throws<TrainingException>(() => new RewardFunctions([]));
        Assert.Contains("at least one reward function", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardFunctions([new(new LengthSource())], maxConcurrency: 0));
        // Zero and negative weights are allowed, as TRL's reward_weights.
        Assert.Equal(2, new RewardFunctions([new(new LengthSource("a"), 0f), new(new LengthSource("b"), -1f)]).Functions.Count);
    }

    [Fact]
    public async Task A_non_finite_score_is_an_error_naming_the_source_and_prompt()
    {
        var source = new FuncSource("broken", (_, _) => Label("broken", double.PositiveInfinity));
        var e = await Assert.ThrowsAsync<TrainingException>(() => new RewardFunctions([new(source)]).ScoreAsync([Rollout(Prompt("q7"), "x")]));
        Assert.Equal("reward function 'broken' scored prompt 'q7' Infinity; a score must be a finite number (a source that does not apply returns null)", e.Message);
    }

    [Fact]
    public void A_table_whose_sizes_disagree_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new RewardTable([1f, 2f, 3f], 2, 2, ["a", "b"], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => new RewardTable([1f, 2f], 1, 2, ["a"], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => new RewardTable([1f, 2f], 1, 2, ["a", "b"], [1f]));
    }

    sealed class FuncSource(string name, Func<PromptRecord, string, FeedbackLabel?> score) : ISignalSource
    {
        public string Name => name;
        public string Fingerprint => name;
        public FeedbackLabel? Score(PromptRecord prompt, string response) => score(prompt, response);
    }
}
