using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Alignment.Pipelines;
using AlignSharp.Eval.Reports;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Store;
using AlignSharp.Training;
using AlignSharp.Training.Config;

namespace AlignSharp.Alignment.Tests;

/// <summary>The demo loop with online methods: the wiring (reward functions, stages, the comparison table), not the quality.</summary>
public class OnlineLoopTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-online-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private static string ConstitutionFile => Path.Combine(Repo(), "recipes", "constitution.yaml");

    /// <summary>A world and model small enough for seconds; 24 prompts × 3 samples = 72 completions a round, 12 per generation batch.</summary>
    private DemoOptions Tiny(string method) => new()
    {
        Name = "tiny-" + method, RunsDir = _dir, Constitution = ConstitutionFile,
        SftConversations = 240, TrainPrompts = 24, EvalPrompts = 30, SftEpochs = 1, HiddenSize = 32, Layers = 1, Heads = 2, KvHeads = 1,
        IntermediateSize = 64, TokenizerVocabSize = 400, Rounds = 1, SamplesPerPrompt = 3, MaxNewTokens = 8, AlignEpochs = 1, ReportSamples = 2, Method = method,
        NumGenerations = 3, GenerationBatchSize = 12, OnlineBatchSize = 6,
    };

    private static (LoopResult Result, long Calls, string Table) Run(DemoOptions options, bool resume, string? report = null)
    {
        using var loop = new IterativeAlignment(options, TextWriter.Null, resume);
        var result = loop.Run();
        var table = new StringWriter();
        AlignmentReport.Table(result.Rows, table);
        if (report is not null) loop.WriteReport(result, report, TimeSpan.Zero);
        return (result, loop.ScoringCalls, table.ToString());
    }

    [Fact]
    public void Each_principle_is_a_reward_function_that_is_null_where_it_does_not_apply()
    {
        var env = DemoWorldEnvironment.Generate(new WorldOptions(Seed: 1, SftConversations: 400, TrainPrompts: 40, EvalPrompts: 8));
        var constitution = Constitution.Load(ConstitutionFile, WorldChecks.All);
        var options = new DemoOptions { Constitution = ConstitutionFile, RewardWeights = [2f, 1f, 0.5f, 0.25f] };
        Directory.CreateDirectory(_dir);
        using var store = FeedbackStore.Open(Path.Combine(_dir, "feedback.db"));
        var online = OnlineRounds.Rewards(options, constitution, judges: null, store, concurrency: 1);
        Assert.Equal(4, online.Stored.Count);
        var picks = new[] { "harmful", "arithmetic", "format" }.Select(c => env.Demonstrations.First(d => d.Prompt.Category == c)).ToList();
        var rollouts = picks.Select(p => new Rollout(p.Prompt, [1], [2], [0f], p.Response, FinishReason.Stop)).ToList();
        var table = online.Functions.ScoreAsync(rollouts).GetAwaiter().GetResult();

        var checks = WorldChecks.All;
        for (int i = 0; i < picks.Count; i++)
        {
            var (prompt, response) = picks[i];
            double expected = 0;
            for (int f = 0; f < options.RewardFuncs.Count; f++)
            {
                var principle = constitution.Principles.Single(p => p.Id == options.RewardFuncs[f]);
                var label = principle.AppliesToCategory(prompt.Category) ? checks[principle.Check!].Score(prompt, response) : null;
                if (label is null) Assert.True(float.IsNaN(table[i, f]), $"{principle.Id} on a {prompt.Category} prompt must be left out");
                else
                {
                    Assert.Equal((float)label.Score, table[i, f]);
                    expected += options.RewardWeights![f] * (float)label.Score;
                }
            }
            Assert.Equal((float)expected, table.Weighted()[i], 5);
        }
        // The harmful prompt has only refuse_harmful; the arithmetic one has help_benign and correct_answer but not refuse_harmful.
        Assert.False(float.IsNaN(table[0, 0]));
        Assert.True(float.IsNaN(table[0, 1]) && float.IsNaN(table[0, 2]) && float.IsNaN(table[0, 3]));
        Assert.True(float.IsNaN(table[1, 0]) && !float.IsNaN(table[1, 1]) && !float.IsNaN(table[1, 2]));
        // Every label is in the run's store, with its principle's source.
        Assert.True(store.LabelCount >= table.Scores.Count(x => !float.IsNaN(x)));
    }

    [Fact]
    public void A_grpo_round_trains_on_the_reward_functions_and_resumes_from_its_stages()
    {
        var options = Tiny("grpo");
        var first = Run(options, resume: false);
        Assert.Equal(2, first.Result.Rows.Count);
        Assert.Equal(72, first.Result.Rows[1].Rows); // the sample budget: 24 prompts × 3
        Assert.True(first.Calls > 0);
        string round = Path.Combine(options.RunDir, "round-1", "model");
        Assert.True(File.Exists(Path.Combine(round, "model.safetensors")));
        var metrics = File.ReadAllLines(Path.Combine(round, "metrics.jsonl"));
        foreach (var id in options.RewardFuncs) Assert.Contains(metrics, l => l.Contains($"rewards/constitution:demo/{id}/mean"));
        // 72 completions = 6 generation batches of 12, each trained on in 2 steps of 6.
        Assert.Equal(new OnlineRoundPlan(12, 72), OnlineRounds.Plan(options, "grpo"));
        Assert.StartsWith("{\"step\":12,", metrics[^1]);

        // A finished run resumed: every stage skipped, the same table, nothing scored.
        var resumed = Run(options, resume: true);
        Assert.Equal(0, resumed.Calls);
        Assert.Equal(first.Table, resumed.Table);

        // The round cut off before it finished: trained again from the same policy and seed, each label from the store.
        File.Delete(Path.Combine(options.RunDir, "stages", "round-1-train.done"));
        Directory.Delete(Path.Combine(options.RunDir, "round-1"), true);
        var again = Run(options, resume: true);
        Assert.Equal(0, again.Calls);
        Assert.Equal(first.Table, again.Table);
    }

    [Fact]
    public void A_comparison_runs_each_method_from_the_same_sft_model_and_reports_one_table()
    {
        var options = Tiny("dpo") with { Name = "tiny-compare", Compare = ["dpo", "grpo", "ppo", "rloo", "online_dpo"] };
        string report = Path.Combine(_dir, "report.html");
        var (result, _, _) = Run(options, resume: false, report);
        Assert.Equal(["SFT", "dpo", "grpo", "ppo", "rloo", "online_dpo"], result.Rows.Select(r => r.Name));
        var runs = result.Comparison!;
        Assert.Equal(["dpo", "grpo", "ppo", "rloo", "online_dpo"], runs.Select(r => r.Method));
        Assert.All(runs, r => Assert.Equal(72, r.Samples));
        Assert.All(runs, r => Assert.True(File.Exists(Path.Combine(options.RunDir, r.Method, "round-1", "model", "model.safetensors"))));
        Assert.All(runs, r => Assert.True(r.WallTime > TimeSpan.Zero));

        var console = new StringWriter();
        new MethodComparison(result.Rows[0], runs, options.Goal).Table(console);
        var lines = console.ToString().Split('\n');
        foreach (var m in options.Compare) Assert.Contains(lines, l => l.StartsWith("│ " + m + " "));
        Assert.Contains(" pp", console.ToString());
        string html = File.ReadAllText(report);
        Assert.Contains("Methods compared", html);
        Assert.Contains("<td>online_dpo</td>", html);
        // ppo's critic (a value head on the policy) is saved beside its model.
        Assert.True(File.Exists(Path.Combine(options.RunDir, "ppo", "round-1", "model", "value_head.safetensors")));

        // Resumed, the recorded wall times are read back, not re-measured.
        var resumed = Run(options, resume: true);
        Assert.Equal(runs.Select(r => r.WallTime), resumed.Result.Comparison!.Select(r => r.WallTime));
    }

    [Fact]
    public void A_run_without_online_methods_records_the_recipe_it_recorded_before_they_existed()
    {
        string Recorded(DemoOptions o)
        {
            using (new IterativeAlignment(o, TextWriter.Null, resume: false)) { }
            return File.ReadAllText(Path.Combine(o.RunDir, "recipe.json"));
        }
        string dpo = Recorded(Tiny("dpo"));
        Assert.All(DemoOptions.OnlineKeys.Append("compare"), key => Assert.DoesNotContain($"\"{key}\"", dpo));
        string grpo = Recorded(Tiny("grpo"));
        Assert.All(DemoOptions.OnlineKeys, key => Assert.Contains($"\"{key}\"", grpo));
        // Online keys may change on resuming a dpo run: it never reads them.
        using (new IterativeAlignment(Tiny("dpo") with { GrpoLearningRate = 1f }, TextWriter.Null, resume: true)) { }
        Assert.Throws<TrainingException>(() => new IterativeAlignment(Tiny("grpo") with { GrpoLearningRate = 1f }, TextWriter.Null, resume: true));
    }

    [Theory]
    [InlineData("grpo")]
    [InlineData("ppo")]
    [InlineData("rloo")]
    [InlineData("online_dpo")]
    public void Online_methods_parse_from_a_recipe(string method)
    {
        var options = ConfigBinder.Bind(new DemoOptions(), new Dictionary<string, (string, string)> { ["method"] = (method, "recipe.yaml:3") }).Validate();
        Assert.Equal(method, options.Method);
        Assert.Contains(method, DemoOptions.OnlineMethods);
    }

    [Fact]
    public void Bad_methods_and_online_keys_are_refused_naming_the_key()
    {
        var e = Assert.Throws<TrainingException>(() => ConfigBinder.Bind(new DemoOptions(), new Dictionary<string, (string, string)> { ["method"] = ("gpro", "recipe.yaml:3") }));
        Assert.Contains("method", e.Message);
        Assert.Contains("grpo", e.Message);
        e = Assert.Throws<TrainingException>(() => new DemoOptions { Compare = ["dpo", "reinforce"] }.Validate());
        Assert.StartsWith("compare: 'reinforce'", e.Message);
        e = Assert.Throws<TrainingException>(() => new DemoOptions { Method = "grpo", RewardWeights = [1f, 2f] }.Validate());
        Assert.StartsWith("reward_weights:", e.Message);
        e = Assert.Throws<TrainingException>(() => new DemoOptions { Method = "grpo", GenerationBatchSize = 70 }.Validate());
        Assert.StartsWith("generation_batch_size", e.Message);
        // A dpo run does not read the online keys, so they are not checked.
        new DemoOptions { GenerationBatchSize = 70 }.Validate();
        e = Assert.Throws<TrainingException>(() => Run(Tiny("grpo") with { RewardFuncs = ["refuse_harmful", "be_nice"] }, resume: false));
        Assert.Contains("reward_funcs", e.Message);
        Assert.Contains("be_nice", e.Message);
    }
}
