using AlignSharp.Tensors;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// What an alignment loss returns: the scalar <paramref name="Loss"/> to call <see cref="Tensor.Backward"/> on, and
/// the batch metrics a trainer logs, keyed by TRL's metric names ("rewards/chosen", "rewards/accuracies", …)
/// so that logs from AlignSharp and TRL runs line up.
/// </summary>
/// <param name="Loss">Scalar tensor; carries the gradient history of the policy inputs.</param>
/// <param name="Metrics">Plain numbers computed without gradient, averaged over the batch.</param>
public sealed record LossResult(Tensor Loss, IReadOnlyDictionary<string, float> Metrics);
