namespace AlignSharp.Training.Methods;

/// <summary>
/// The options records one training method reads (e.g. <see cref="Trainers.DpoOptions"/> and <see cref="ReferenceOptions"/>
/// for DPO; none for SFT), one of each type, in the order the method declares them. Build them with
/// <see cref="TrainingMethod.Options"/> (defaults for any left out) or bind them from recipe keys with
/// <see cref="TrainingMethod.BindOptions"/>.
/// </summary>
public sealed class MethodOptions
{
    internal MethodOptions(IReadOnlyList<object> records) => Records = records;

    /// <summary>The records, in the method's order; they are recorded in output_dir and checked on resume.</summary>
    public IReadOnlyList<object> Records { get; }

    /// <summary>The record of type <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentException">The method reads no options of that type.</exception>
    public T Get<T>() where T : class =>
        Records.OfType<T>().SingleOrDefault() ?? throw new ArgumentException($"these method options hold no {typeof(T).Name} (they hold {Describe()})");

    internal string Describe() => Records.Count == 0 ? "none" : string.Join(", ", Records.Select(r => r.GetType().Name));
}
