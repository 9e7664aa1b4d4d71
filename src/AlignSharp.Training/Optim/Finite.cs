using System.Numerics.Tensors;

namespace AlignSharp.Training.Optim;

/// <summary>Checks that values hold no NaN or infinity, so a checkpoint is only written from a state training can go on from.</summary>
public static class Finite
{
    /// <summary>True when every value is finite. MaxMagnitude returns NaN if any value is NaN and ∞ if any is infinite (vectorized).</summary>
    public static bool All(ReadOnlySpan<float> values) => values.IsEmpty || float.IsFinite(TensorPrimitives.MaxMagnitude(values));
}
