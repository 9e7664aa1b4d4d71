using AlignSharp.Training.Config;
using AlignSharp.Training.Core;

namespace AlignSharp.Training.Methods;

/// <summary>
/// A trainer recipe bound and checked: the method (from the recipe's <c>method:</c> key or the command line), the
/// shared <see cref="TrainingArguments"/> (TRL's defaults for the method, then the recipe) and the method's options.
/// Nothing is loaded yet; <see cref="TrainingRun.Start"/> does that.
/// </summary>
public sealed record TrainingRecipe(TrainingMethod Method, TrainingArguments Arguments, MethodOptions Options)
{
    /// <summary>The key that names the method in a recipe.</summary>
    public const string MethodKey = "method";

    /// <summary>
    /// The method a recipe's <c>method:</c> key (or <c>--set method=</c>) names, and where it is written
    /// ("recipe.yaml:1", "--set method"); (null, null) when the recipe has none.
    /// </summary>
    /// <exception cref="TrainingException">The key names no known method.</exception>
    public static (TrainingMethod? Method, string? Source) MethodOf(IReadOnlyDictionary<string, (string Value, string Source)> values) =>
        values.TryGetValue(MethodKey, out var entry) ? (TrainingMethods.Parse(entry.Value, Where(entry.Source)), entry.Source) : (null, null);

    /// <summary>
    /// Binds recipe keys (<see cref="RecipeFile.Read"/>'s values: the file, then <c>--set</c> overrides) for the method
    /// the recipe names or <paramref name="methodFromCommandLine"/> gives. Checks as <c>alignsharp train</c> does, in
    /// its order: the shared keys' values, then their consistency (<see cref="TrainingArguments.Validate"/>), then the
    /// method's keys, then unknown keys (each named with its source and the closest known key).
    /// </summary>
    /// <exception cref="TrainingException">No method, two different methods, a bad value or an unknown key.</exception>
    public static TrainingRecipe Bind(IReadOnlyDictionary<string, (string Value, string Source)> values, TrainingMethod? methodFromCommandLine = null)
    {
        var (fromRecipe, source) = MethodOf(values);
        if (fromRecipe is not null && methodFromCommandLine is not null && fromRecipe != methodFromCommandLine)
            throw new TrainingException($"{Where(source!)}: the recipe is for {fromRecipe} but {methodFromCommandLine} was asked for; change one of them");
        var method = fromRecipe ?? methodFromCommandLine
            ?? throw new TrainingException($"{MethodKey}: required: name the training method ({MethodKey}: one of {TrainingMethods.Choices})");
        // A key the method's options declare is the method's, also where a shared key has its name (max_prompt_length
        // is GRPO's prompt cut in a GRPO recipe); the method's options read the recipe only for this method (so `beta`
        // is the DPO β in a DPO recipe).
        var own = method.OptionKeys.ToHashSet();
        var shared = values.Where(kv => kv.Key != MethodKey && !own.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        var methodValues = values.Where(kv => own.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        var arguments = ConfigBinder.Bind(method.DefaultArguments, shared).Validate();
        var options = method.BindOptions(methodValues);
        ConfigBinder.RejectUnknown(shared, Keys(method));
        return new TrainingRecipe(method, arguments, options);
    }

    /// <summary>Every key a recipe for <paramref name="method"/> may hold: method, the shared keys, the method's own.</summary>
    public static IEnumerable<string> Keys(TrainingMethod method) =>
        ConfigBinder.Keys(typeof(TrainingArguments)).Except(method.OptionKeys).Append(MethodKey).Concat(method.OptionKeys);

    /// <summary>"recipe.yaml:3: method", or "--set method" alone (the source already names the key), as ConfigBinder words it.</summary>
    private static string Where(string source) => source == $"--set {MethodKey}" ? source : $"{source}: {MethodKey}";
}
