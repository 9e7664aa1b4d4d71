using AlignSharp.Alignment.Rewards;
using AlignSharp.Feedback.Providers;
using AlignSharp.Training.Config;
using AlignSharp.Training.Core;
using AlignSharp.Training.Methods;
using AlignSharp.Training.Online;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp train METHOD --config FILE.yaml [--set key=value ...]`: parses, hands the recipe to
/// <see cref="TrainingRun"/> (with <see cref="RewardSpecs"/> for an online method's reward_funcs and the recipe's judge:
/// block) and prints what it reports (rows read, reward functions, resume, step lines, a progress bar, the end).
/// </summary>
internal static class TrainCommand
{
    internal static IReadOnlyList<string> Methods => TrainingMethods.Names;

    internal const string Summary = "train on a TRL-format JSONL dataset (online methods: prompts, scored by reward_funcs); checkpoints, metrics.jsonl and TensorBoard logs go to output_dir; " +
        "`train METHOD --help` lists every recipe key with its default and meaning";

    /// <summary>The metrics each step line prints, when the step logged them.</summary>
    internal static readonly string[] StepMetrics =
    [
        "loss", "learning_rate", "grad_norm", "rewards/accuracies", "rewards/margins", "accuracy", "reward", "kl", "objective/kl",
        "completions/mean_length", "sampling/logp_max_deviation", "tokens_per_second",
    ];

    /// <summary>One spec per method: the options, and every recipe key (shared, then the method's) under --help.</summary>
    internal static readonly CommandSpec[] Specs = TrainingMethods.All.Select(method => new CommandSpec($"train {method}", "--config FILE.yaml [--set key=value ...]",
        $"train {method.Description} on a TRL-format JSONL dataset{(method.IsOnline ? " of prompts, sampling completions and scoring them with reward_funcs" : "")}; checkpoints, metrics.jsonl and TensorBoard logs go to output_dir",
        new OptionSpec("config", "FILE.yaml", "the recipe: flat snake_case keys as listed below"),
        new OptionSpec("set", "key=value", "override one recipe key (repeatable; wins over the file)"))
    {
        Details = () => Keys(method),
    }).ToArray();

    /// <summary>Recipe keys of <paramref name="method"/>: method, those all trainers share, then the method's own.</summary>
    private static IEnumerable<string> Keys(TrainingMethod method)
    {
        yield return "recipe keys (YAML or --set), with their defaults:";
        yield return $"  {TrainingRecipe.MethodKey}: {method}".PadRight(36)
            + $"the training method; `alignsharp run RECIPE` reads it, `train METHOD` checks it matches ({TrainingMethods.Choices})";
        var own = method.OptionKeys.ToHashSet();   // a shared key the method declares itself is listed with the method's keys
        foreach (var line in ConfigBinder.Describe(method.DefaultArguments).Where(l => !own.Contains(l.TrimStart().Split(':')[0]))) yield return line;
        if (method.DefaultOptions.Count > 0)
        {
            yield return "";
            yield return $"{method} keys:";
            foreach (var options in method.DefaultOptions)
                foreach (var line in ConfigBinder.Describe(options))
                    yield return line;
        }
        if (method.IsOnline)
            foreach (var line in RewardHelp()) yield return line;
        yield return "";
        yield return RunSettings.HelpLine;
    }

    /// <summary>What a reward_funcs entry may be, and the judge: block the judged kinds use.</summary>
    private static IEnumerable<string> RewardHelp()
    {
        yield return "";
        yield return "reward sources (reward_funcs entries; several are summed with reward_weights, a source that does not apply to a prompt is left out):";
        using var specs = new RewardSpecs();
        foreach (var kind in OnlineRewards.Kinds(specs))
            yield return $"  {kind.Syntax}".PadRight(22) + kind.Description;
        yield return "";
        yield return "role block (YAML, or --set judge.KEY=VALUE): the judge of constitution:FILE's text-only principles and of judge:rubric:";
        yield return "  judge: {endpoint: http://HOST:PORT/v1, model: NAME, api_key_env: VAR, max_concurrency: 8, max_retries: 6, timeout_seconds: 60,";
        yield return "          requests_per_minute: 0, tokens_per_minute: 0}   or   judge: {model: DIR, adapter: DIR, max_batch: 16}";
    }

    public static int Run(string[] args, TextWriter stdout)
    {
        var method = args.Length == 0 ? null : TrainingMethods.All.FirstOrDefault(m => m.Name == args[0]);
        if (method is null)
            throw new UsageException($"train: name a method ({string.Join(", ", Methods)}): alignsharp train dpo --config recipe.yaml [--set key=value ...]");
        var o = new Options(args[1..], Specs[TrainingMethods.All.ToList().IndexOf(method)]);
        var values = RecipeFile.Read(o.Value("config"), o.Values("set"));
        var (named, source) = TrainingRecipe.MethodOf(values);
        if (named is not null && named != method)
            throw new UsageException($"train {method}: {source} says method: {named}, not {method}; run `alignsharp train {named}`, or change the recipe's method: key");
        // An online method's judge: block (for constitution:FILE and judge:rubric) is no training key; offline recipes keep it, and are told it is unknown.
        var judge = method.IsOnline ? RoleBlocks.Take(o.Value("config") ?? "--set", [ProviderRole.Judge], values)[ProviderRole.Judge] : null;
        using var rewards = new RewardSpecs(judge);
        using var run = TrainingRun.FromRecipe(values, method, rewards);
        Report(run, stdout);
        return 0;
    }

    /// <summary>Trains <paramref name="run"/> to the end, printing as `train` always has; `run RECIPE` prints the same.</summary>
    internal static void Report(TrainingRun run, TextWriter stdout)
    {
        var (method, arguments, _) = run.Recipe;
        if (run.Adapter is { } adapter)
            stdout.WriteLine($"model: continuing the LoRA adapter in {adapter.Folder} (r {adapter.Lora.Rank}, alpha {adapter.Lora.Alpha:G}, dropout {adapter.Lora.Dropout:G}; lora_* keys come from it) on {adapter.BaseModel}");
        var data = run.Data;
        stdout.WriteLine($"{method}: {data.Rows} {(method.IsOnline ? "prompts" : "rows")} from {data.Path}{(data.SkippedRows > 0 ? $" ({data.SkippedRows} malformed rows skipped: {string.Join("; ", data.SkipReasons)})" : "")}");
        if (run.Rewards is { } rewards)
            stdout.WriteLine($"rewards: {string.Join(" + ", rewards.Functions.Select(f => f.Weight == 1 ? f.Name : $"{f.Weight:G}·{f.Name}"))}");
        // Ready output_dir first (refuse or clear a used one, check settings on resume); the run opens its metrics files there.
        var start = run.PrepareRun();
        if (start.Checkpoint is { } checkpoint) stdout.WriteLine($"resumed from {Path.GetFileName(checkpoint)} (step {start.Step}) in {arguments.OutputDir}");
        else if (arguments.Resume) stdout.WriteLine($"resume: no checkpoint in {arguments.OutputDir} yet; starting at step 0");
        run.Trainer.AddMetricsSink((step, scalars) =>
            stdout.WriteLine($"step {step}: " + string.Join(", ", StepMetrics.Where(scalars.ContainsKey).Select(key => $"{key} {scalars[key]:G4}"))));
        TrainingProgress? last = null;
        var bar = Progress.Bar($"train {method}", stdout, () => last is null ? "" :
            $"loss {last.Metrics.GetValueOrDefault("loss"):F4} lr {last.Metrics.GetValueOrDefault("learning_rate"):G3}");
        run.Trainer.Progress += p => { last = p; bar((int)p.Step, (int)p.TotalSteps); };
        var outcome = run.Train();
        if (outcome.Eval is { } eval) stdout.WriteLine($"eval pairwise accuracy: {eval.Accuracy:P1} on {eval.Pairs} pairs");
        var result = outcome.Result;
        stdout.WriteLine($"done: {result.Steps} steps, final loss {result.FinalLoss:G4}; model in {result.OutputDir}");
    }
}
