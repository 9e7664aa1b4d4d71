using AlignSharp.Training.Config;
using AlignSharp.Training.Core;
using AlignSharp.Training.Methods;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp train sft|rm|dpo|kto|orpo|simpo --config FILE.yaml [--set key=value ...]`: parses, hands the recipe to
/// <see cref="TrainingRun"/> and prints what it reports (rows read, resume, step lines, a progress bar, the end).
/// </summary>
internal static class TrainCommand
{
    internal static IReadOnlyList<string> Methods => TrainingMethods.Names;

    internal const string Summary = "train on a TRL-format JSONL dataset; checkpoints, metrics.jsonl and TensorBoard logs go to output_dir; " +
        "`train METHOD --help` lists every recipe key with its default and meaning";

    /// <summary>One spec per method: the options, and every recipe key (shared, then the method's) under --help.</summary>
    internal static readonly CommandSpec[] Specs = TrainingMethods.All.Select(method => new CommandSpec($"train {method}", "--config FILE.yaml [--set key=value ...]",
        $"train {method.Description} on a TRL-format JSONL dataset; checkpoints, metrics.jsonl and TensorBoard logs go to output_dir",
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
        foreach (var line in ConfigBinder.Describe(method.DefaultArguments)) yield return line;
        if (method.DefaultOptions.Count > 0)
        {
            yield return "";
            yield return $"{method} keys:";
            foreach (var options in method.DefaultOptions)
                foreach (var line in ConfigBinder.Describe(options))
                    yield return line;
        }
        yield return "";
        yield return RunSettings.HelpLine;
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
        using var run = TrainingRun.FromRecipe(values, method);
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
        stdout.WriteLine($"{method}: {data.Rows} rows from {data.Path}{(data.SkippedRows > 0 ? $" ({data.SkippedRows} malformed rows skipped: {string.Join("; ", data.SkipReasons)})" : "")}");
        // Ready output_dir first (refuse or clear a used one, check settings on resume); the run opens its metrics files there.
        var start = run.PrepareRun();
        if (start.Checkpoint is { } checkpoint) stdout.WriteLine($"resumed from {Path.GetFileName(checkpoint)} (step {start.Step}) in {arguments.OutputDir}");
        else if (arguments.Resume) stdout.WriteLine($"resume: no checkpoint in {arguments.OutputDir} yet; starting at step 0");
        run.Trainer.AddMetricsSink((step, scalars) =>
            stdout.WriteLine($"step {step}: " + string.Join(", ", scalars.Where(kv => kv.Key is "loss" or "learning_rate" or "grad_norm" or "rewards/accuracies" or "rewards/margins" or "accuracy" or "kl" or "tokens_per_second")
                .Select(kv => $"{kv.Key} {kv.Value:G4}"))));
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
