using AlignSharp.Feedback.Providers;
using System.Diagnostics;
using AlignSharp.Alignment.Pipelines;
using AlignSharp.Eval.Reports;
using AlignSharp.Training.Config;

namespace AlignSharp.Cli.Demo;

/// <summary>`alignsharp demo [--quick] [--resume] [--set key=value ...]` and `alignsharp run RECIPE [...]`.</summary>
internal static class DemoCommand
{
    public const string DefaultRecipe = "recipes/demo.yaml";

    private static readonly OptionSpec[] Shared =
    [
        OptionSpec.Flag("quick", "smaller settings that finish in about a minute on two cores (listed below)"),
        OptionSpec.Flag("resume", "skip the stages this run finished and continue a cut-off stage from its last checkpoint (settings must match recipe.json)"),
        new("set", "key=value", "override one recipe key (repeatable; wins over the recipe and --quick)"),
    ];

    internal static readonly CommandSpec DemoSpec = new("demo", "[--quick] [--resume] [--set key=value ...]",
        "the main job: train a tiny assistant on a generated world, then align it with automated signals (constitution + verifiers; DPO, KTO, GRPO, PPO, RLOO or online DPO, or several compared) and report before/after",
        Shared) { Details = Keys };

    internal static readonly CommandSpec RunSpec = new("run", "RECIPE [--quick] [--resume] [--set key=value ...]",
        "run a demo-style recipe (recipes/demo.yaml; set model: to a Hugging Face folder to align that model)",
        Shared) { Details = Keys };

    /// <summary>Every recipe key with its default and meaning, then what --quick changes.</summary>
    private static IEnumerable<string> Keys()
    {
        yield return "recipe keys (YAML or --set), with their defaults:";
        var defaults = ConfigBinder.Describe(new DemoOptions()).ToList();
        foreach (var line in defaults) yield return line;
        yield return "";
        yield return "role block (YAML, or --set judge.KEY=VALUE): with signal: judge, the judge to ask instead of training one on the world:";
        yield return "  judge: {endpoint: http://HOST:PORT/v1, model: NAME, api_key_env: VAR, max_concurrency: 8, max_retries: 6, timeout_seconds: 60,";
        yield return "          requests_per_minute: 0, tokens_per_minute: 0}   or   judge: {model: DIR, adapter: DIR, max_batch: 16}";
        yield return "";
        yield return "--quick changes (before any --set):";
        foreach (var line in ConfigBinder.Describe(new DemoOptions().Quick()).Except(defaults)) yield return line;
    }

    public static int Run(string? recipe, string[] args, TextWriter stdout, string command)
    {
        var o = new Options(args, command == "run" ? RunSpec : DemoSpec);
        if (recipe is not null && !File.Exists(recipe)) throw new UsageException($"{command}: recipe {recipe} not found");
        // Precedence: defaults < recipe < --quick < --set.
        var fromRecipe = RecipeFile.Read(recipe, []);
        var fromSet = RecipeFile.Read(null, o.Values("set"));
        var options = ConfigBinder.Bind(new DemoOptions(), fromRecipe);
        if (o.Flag("quick")) options = options.Quick();
        options = ConfigBinder.Bind(options, fromSet);
        var roles = RoleBlocks.Take(recipe ?? "--set", RoleNames.All, fromRecipe, fromSet);
        ConfigBinder.RejectUnknown(fromRecipe, ConfigBinder.Keys(typeof(DemoOptions)));
        ConfigBinder.RejectUnknown(fromSet, ConfigBinder.Keys(typeof(DemoOptions)));
        // Every key is checked before the first stage, so a bad value costs nothing already done.
        options.Validate();
        if (options.Model.Length > 0 && !Directory.Exists(options.Model)) throw new UsageException($"{command}: model: {options.Model}: folder not found");
        options.ValidateModel();
        if (!File.Exists(options.Constitution)) throw new UsageException($"{command}: constitution: {options.Constitution}: file not found (run from the repository, or --set constitution=PATH)");

        var clock = Stopwatch.StartNew();
        stdout.WriteLine($"AlignSharp demo '{options.Name}': automated alignment with no human labels → {options.RunDir}");
        var judge = roles[ProviderRole.Judge];
        if (judge is not null && options.Signal != "judge") throw new UsageException($"{command}: a judge: block is set but signal is {options.Signal}; add --set signal=judge, or remove the block");
        using var loop = new IterativeAlignment(options, stdout, o.Flag("resume"), label => Progress.Bar(label, stdout), judge);
        var result = loop.Run();
        stdout.WriteLine();
        AlignmentReport.Table(result.Rows, stdout, changes: result.Comparison is null); // compared methods: their changes are in the comparison table
        if (result.Judged is { } judged)
        {
            stdout.WriteLine();
            stdout.WriteLine($"The same evaluation with {string.Join(" and ", options.JudgePrinciples)} measured by the judge ({judged.Judge}) instead of the world's checks:");
            AlignmentReport.Table(judged.Rows, stdout);
            foreach (var a in judged.Agreement)
                stdout.WriteLine($"{a.SourceA} agrees with the world's {a.SourceB.Replace("check: ", "")} check on {a.Agreement:P1} of {a.Shared} evaluated responses (Cohen's κ {(a.Kappa is { } k ? k.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "undefined")})");
        }
        if (result.Comparison is { } runs)
        {
            stdout.WriteLine();
            new MethodComparison(result.Rows[0], runs, options.Goal).Table(stdout);
            foreach (var run in runs) stdout.WriteLine($"{run.Method}: {AlignmentReport.Goal([result.Rows[0], run.Rows.Count > 0 ? run.Rows[^1] : result.Rows[0]], options.Goal).Summary}");
        }
        else stdout.WriteLine(AlignmentReport.Goal(result.Rows, options.Goal).Summary);
        string report = Path.Combine(options.RunDir, "report.html");
        loop.WriteReport(result, report, clock.Elapsed);
        string models = result.Comparison is null ? $"aligned model: {result.Rows[^1].ModelDir}" : "aligned models: " + string.Join(", ", result.Rows.Skip(1).Select(r => r.ModelDir));
        stdout.WriteLine($"report: {report}; {models} ({clock.Elapsed.TotalMinutes:F1} min)");
        return 0;
    }
}
