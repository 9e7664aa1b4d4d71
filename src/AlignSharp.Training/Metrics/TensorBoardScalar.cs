namespace AlignSharp.Training.Metrics;

/// <summary>One scalar read back from a TensorBoard event file.</summary>
/// <param name="Step">The event's global step.</param>
/// <param name="Tag">The scalar's name, e.g. <c>loss</c> or <c>reward/mean</c>.</param>
/// <param name="Value">The stored <c>simple_value</c>; event files hold scalars as float32.</param>
/// <param name="WallTime">The event's wall time, in seconds since the Unix epoch.</param>
public readonly record struct TensorBoardScalar(long Step, string Tag, float Value, double WallTime);
