using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Training.Online;

/// <summary>A prompt and one sampled completion of it, as token ids (the exact tokens the sampler produced).</summary>
public sealed record CompletionRow(int[] PromptIds, int[] CompletionIds);

/// <summary>
/// The training forward over prompt + completion rows: per-token log-probs of the completion tokens [B, T]
/// (T = the longest completion; 0 past each row's end, where <see cref="Mask"/> is 0), optionally the entropy of
/// each predicting distribution and the final hidden states at the predicting positions (for a value head).
/// </summary>
/// <param name="LogProbs">[B, T] log softmax(logits / temperature)[completion token], with gradient unless computed under NoGrad.</param>
/// <param name="Mask">[B·T] 1 for a real completion token, 0 for padding.</param>
/// <param name="Entropy">[B·T] entropy of each predicting distribution (at the temperature), when asked for; 0 on padding.</param>
/// <param name="Hidden">[B, T, C] final hidden states (after the final norm) at the positions that predict each completion token, when asked for.</param>
public sealed record CompletionForward(Tensor LogProbs, float[] Mask, int B, int T, float[]? Entropy = null, Tensor? Hidden = null);

/// <summary>
/// Per-token log-probs of sampled completions under a causal LM — the trainer's side of the rollout/training
/// log-prob guarantee: for the weights that sampled them, these equal the sampler's log-probs (to 1e-5).
/// </summary>
public static class CompletionLogProbs
{
    /// <summary>One forward pass over the rows (prompt + completion, right-padded) and the completion tokens' log-probs.</summary>
    /// <param name="temperature">Logits are divided by it before the log-softmax (TRL's GRPO/RLOO/PPO do the same); must match the sampling temperature.</param>
    /// <param name="withAdapters">false: the base model alone for this call (a LoRA run's reference).</param>
    public static CompletionForward Compute(TransformerModel model, IReadOnlyList<CompletionRow> rows, float temperature = 1f,
        bool withAdapters = true, bool entropy = false, bool keepHidden = false) => throw new NotImplementedException();

    /// <summary>max |forward − sampling| log-prob over every real completion token of <paramref name="rollouts"/> (the rows of <paramref name="forward"/>).</summary>
    public static float MaxDeviation(CompletionForward forward, IReadOnlyList<AlignSharp.Feedback.Rollout> rollouts) => throw new NotImplementedException();
}
