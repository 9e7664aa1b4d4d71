namespace AlignSharp.Training.Metrics;

/// <summary>One <c>Event</c> record of a TensorBoard event file, reduced to the fields AlignSharp writes.</summary>
/// <param name="Offset">Byte offset of the record's frame in the file.</param>
/// <param name="WallTime">Seconds since the Unix epoch (field 1).</param>
/// <param name="Step">Global step (field 2); 0 when absent.</param>
/// <param name="FileVersion">The <c>file_version</c> string (field 3), set only on a file's first record.</param>
/// <param name="Scalars">The <c>summary.value</c> entries that carry a <c>simple_value</c> (field 5).</param>
public sealed record TensorBoardEvent(long Offset, double WallTime, long Step, string? FileVersion, IReadOnlyList<TensorBoardScalar> Scalars);
