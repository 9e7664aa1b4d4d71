using AlignSharp.Training.Config;
using AlignSharp.Training.Methods;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp run RECIPE [--set key=value ...]`: runs any recipe. A recipe with <c>environment:</c> is an alignment
/// loop over that environment (the demo's); any other is a trainer recipe, which names its <c>method:</c> and runs
/// exactly as `alignsharp train METHOD --config RECIPE`.
/// </summary>
internal static class RunCommand
{
    /// <summary>The key that makes a recipe an environment (alignment-loop) recipe.</summary>
    internal const string EnvironmentKey = "environment";

    internal static readonly CommandSpec Spec = new("run", "RECIPE [--set key=value ...] [--resume] [--quick]",
        $"run any recipe: a trainer recipe ({TrainingRecipe.MethodKey}: {TrainingMethods.Choices}) trains as `train METHOD --config RECIPE`; " +
        $"an environment recipe ({EnvironmentKey}: assistant_world, e.g. recipes/demo.yaml) runs the automated alignment loop",
        new OptionSpec("set", "key=value", "override one recipe key (repeatable; wins over the recipe)"),
        OptionSpec.Flag("resume", "continue: a trainer recipe from output_dir's newest checkpoint (resume: true); an environment recipe skips the stages it finished"),
        OptionSpec.Flag("quick", "environment recipes only: smaller settings that finish in about a minute on two cores"))
    {
        Details = Details,
    };

    private static IEnumerable<string> Details()
    {
        yield return "two kinds of recipe:";
        yield return $"  trainer recipe      {TrainingRecipe.MethodKey}: one of {TrainingMethods.Choices}, with the shared training keys and the method's own";
        yield return "                      (`alignsharp train METHOD --help` lists them); runs exactly as `alignsharp train METHOD --config RECIPE`";
        yield return $"  environment recipe  {EnvironmentKey}: assistant_world (recipes/demo.yaml): sample, score, build preference data, train, evaluate, report;";
        yield return "                      its keys:";
        yield return "";
        foreach (var line in Demo.DemoCommand.RunSpec.Details!()) yield return line;
    }

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0 || args[0].StartsWith("--"))
            throw new UsageException($"run: give a recipe: alignsharp run RECIPE.yaml [--set key=value ...] (a trainer recipe such as recipes/dpo.yaml, or an environment recipe such as recipes/demo.yaml)");
        string recipe = args[0];
        var o = new Options(args[1..], Spec);
        if (!File.Exists(recipe)) throw new UsageException($"run: recipe {recipe} not found");
        var values = RecipeFile.Read(recipe, o.Values("set"));
        if (IsEnvironmentRecipe(values))
            return Demo.DemoCommand.Run(recipe, args[1..], stdout, "run");

        var (method, _) = TrainingRecipe.MethodOf(values);
        if (method is null)
            throw new UsageException($"run: {recipe} has no {TrainingRecipe.MethodKey}: key; a trainer recipe names its method ({TrainingRecipe.MethodKey}: {TrainingMethods.Choices}), " +
                $"an alignment-loop recipe its environment ({EnvironmentKey}: assistant_world)");
        if (o.Flag("quick"))
            throw new UsageException($"run: --quick is for environment recipes; {recipe} is a {method} trainer recipe (set max_steps to shorten it)");
        string[] sets = [.. o.Values("set").SelectMany(s => new[] { "--set", s }), .. o.Flag("resume") ? new[] { "--set", "resume=true" } : []];
        return TrainCommand.Run([method.Name, "--config", recipe, .. sets], stdout);
    }

    /// <summary>A recipe with <c>environment:</c> set: the alignment loop on that environment.</summary>
    internal static bool IsEnvironmentRecipe(IReadOnlyDictionary<string, (string Value, string Source)> values) =>
        values.TryGetValue(EnvironmentKey, out var environment) && environment.Value is not ("" or "null" or "~");
}
