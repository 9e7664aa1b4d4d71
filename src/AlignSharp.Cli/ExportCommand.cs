using AlignSharp.Training.Config;
using AlignSharp.Training.Methods;

namespace AlignSharp.Cli;

/// <summary>
/// `alignsharp export trl --config RECIPE --out DIR [--set key=value ...]`: a trainer recipe's data in TRL's JSONL formats
/// and a config for TRL's own launcher, so the same run moves to GPUs (<see cref="TrlConfigExport"/>); prints what was
/// written, the recipe keys TRL has no field for, and the two-line hand-off.
/// </summary>
internal static class ExportCommand
{
    internal static readonly CommandSpec TrlSpec = new("export trl", "--config FILE.yaml --out DIR [--set key=value ...]",
        "write a trainer recipe's dataset(s) in TRL's JSONL formats and a config for TRL's CLI (trl sft|reward|dpo|kto --config; ORPO and SimPO through TRL's example scripts), " +
        "with the recipe's keys under TRL's field names; keys TRL has no field for are listed",
        new OptionSpec("config", "FILE.yaml", "the trainer recipe (it names its method:, or give --set method=NAME)"),
        new OptionSpec("out", "DIR", $"folder for {TrlConfigExport.ConfigFile} and {TrlConfigExport.DataFolder}/{TrlConfigExport.TrainFile} ({TrlConfigExport.TestFile} with eval_dataset); created if missing"),
        new OptionSpec("set", "key=value", "override one recipe key (repeatable; wins over the file)"));

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0 || args[0] != "trl")
            throw new UsageException($"export: name a format (trl): alignsharp export trl --config RECIPE.yaml --out DIR");
        var o = new Options(args[1..], TrlSpec);
        string recipe = o.Required("config", "export trl"), outDir = o.Required("out", "export trl");
        if (!File.Exists(recipe)) throw new UsageException($"export trl: recipe {recipe} not found");
        var values = RecipeFile.Read(recipe, o.Values("set"));
        if (TrainingRecipe.MethodOf(values).Method is null)
            throw new UsageException($"export trl: {recipe} names no {TrainingRecipe.MethodKey}: add `{TrainingRecipe.MethodKey}: METHOD` ({TrainingMethods.Choices}) or give --set {TrainingRecipe.MethodKey}=METHOD");
        var export = TrlConfigExport.Export(values, outDir);
        foreach (var d in export.Datasets)
            stdout.WriteLine($"wrote {d.Path}: {d.Rows} rows from {d.Source}{(d.SkippedRows > 0 ? $" ({d.SkippedRows} malformed rows left out)" : "")}");
        stdout.WriteLine($"wrote {export.ConfigPath}: {export.Config.Method.Trl.ConfigClass} with {export.Config.Fields.Count} fields");
        if (export.Config.Unmapped.Count > 0)
        {
            stdout.WriteLine($"recipe keys with no TRL field (listed at the top of {export.ConfigPath}):");
            foreach (var u in export.Config.Unmapped) stdout.WriteLine($"  {u.Key}: {u.Value} — {u.Reason}");
        }
        foreach (var note in export.Notes) stdout.WriteLine($"note: {note}");
        stdout.WriteLine("hand-off, on a machine with GPUs (for several, add accelerate's --num_processes N):");
        foreach (var line in export.HandOff) stdout.WriteLine($"  {line}");
        return 0;
    }
}
