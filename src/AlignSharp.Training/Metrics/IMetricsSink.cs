namespace AlignSharp.Training.Metrics;

/// <summary>A destination for training scalars (loss, learning rate, reward, KL…), one call per optimizer step.</summary>
/// <remarks>
/// Sinks write through on every <see cref="Log"/> so a run killed mid-training keeps its curves up to the
/// last logged step. Disposing flushes and closes the underlying file.
/// </remarks>
public interface IMetricsSink : IDisposable
{
    /// <summary>Records the scalars of one step; tags are slash-separated names such as <c>loss</c> or <c>reward/mean</c>.</summary>
    /// <param name="step">The global optimizer step the values belong to.</param>
    /// <param name="scalars">Tag → value; non-finite values are allowed and recorded as such.</param>
    void Log(long step, IReadOnlyDictionary<string, double> scalars);

    /// <summary>Pushes anything buffered to the operating system.</summary>
    void Flush();
}
