using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Trainers;

/// <summary>
/// What the policy-gradient trainers (<see cref="RlooTrainer"/>, <see cref="ReinforcePlusPlusTrainer"/>) share: TRL's
/// generation batch of per_device_train_batch_size × steps_per_generation (default gradient_accumulation_steps)
/// completions, a multiple of num_generations, trained on num_iterations times; the reference model of the KL penalty
/// (β &gt; 0 only); mask_truncated_completions; the per-token layout of the batch.
/// </summary>
public abstract class PolicyGradientTrainer : OnlineTrainer
{
    /// <param name="method">The method's recipe name, for errors.</param>
    /// <param name="problem">What is wrong with the method's options (null when nothing is): checked before anything else.</param>
    /// <param name="reference">The reference model (β &gt; 0 only; default: the policy's starting weights, see <see cref="ReferencePolicy.For"/>).</param>
    protected PolicyGradientTrainer(string method, string? problem, TrainingArguments args, TrainableModel model, IReadOnlyList<PromptRecord> prompts,
        ExampleTokenizer encoder, RewardFunctions rewards, PolicyGradientOptions options, int numGenerations, float beta, int skippedRows, TransformerModel? reference)
        : base(args, model, prompts, encoder, rewards, skippedRows)
    {
        if (problem is not null) throw new TrainingException($"{method}: {problem}");
        if (rewards.Functions.Count == 0) throw new TrainingException($"{method}: no reward functions; name at least one in reward_funcs");
        int steps = options.StepsPerGeneration ?? args.GradientAccumulationSteps;
        int generationBatch = args.PerDeviceTrainBatchSize * steps;
        if (generationBatch % numGenerations != 0)
            throw new TrainingException($"{method}: the generation batch (per_device_train_batch_size {args.PerDeviceTrainBatchSize} × steps_per_generation {steps} = {generationBatch}) must be a multiple of num_generations {numGenerations}");
        Plan = new RolloutPlan(generationBatch / numGenerations, numGenerations, options.NumIterations, generationBatch, options.Sampling);
        MaskTruncated = options.MaskTruncatedCompletions;
        if (beta != 0f) Reference = ReferencePolicy.For(model, reference);
    }

    protected sealed override RolloutPlan Plan { get; }

    /// <summary>The reference policy when β &gt; 0, else null.</summary>
    protected ReferencePolicy? Reference { get; }

    private bool MaskTruncated { get; }

    /// <summary>[N] 0 for a completion cut at max_completion_length when mask_truncated_completions is on, else 1.</summary>
    protected float[] LossMask(Rollout[] rollouts) => rollouts.Select(r => MaskTruncated && r.Finish == FinishReason.Length ? 0f : 1f).ToArray();

    /// <summary>The forward's [B·T] mask with the rows whose loss mask is 0 cleared.</summary>
    protected static float[] MaskRows(CompletionForward forward, int[] rows, float[] lossMask)
    {
        var mask = (float[])forward.Mask.Clone();
        for (int b = 0; b < rows.Length; b++)
            if (lossMask[rows[b]] == 0f) mask.AsSpan(b * forward.T, forward.T).Clear();
        return mask;
    }

    /// <summary>
    /// The sampling log-probs and the reference log-probs (zeros without a reference) of every rollout padded to [N·T]
    /// (T the longest completion), with the completion mask (rows with loss mask 0 cleared).
    /// </summary>
    protected static (float[] Old, float[] Reference, float[] Mask, int T) PaddedTokens(Rollout[] rollouts, float[][]? reference, float[] lossMask)
    {
        int t = Math.Max(1, rollouts.Max(r => r.CompletionIds.Length)), n = rollouts.Length;
        var mask = new float[n * t];
        for (int i = 0; i < n; i++)
            if (lossMask[i] != 0f) mask.AsSpan(i * t, rollouts[i].CompletionIds.Length).Fill(1f);
        return (Padded(rollouts.Select(r => r.LogProbs).ToList(), t), reference is null ? new float[n * t] : Padded(reference, t), mask, t);
    }

    /// <summary>TRL's "kl" metric: the mean per-token k1 (log π_old − log π_ref) over the masked tokens.</summary>
    protected static float MeanK1(float[] old, float[] reference, float[] mask)
    {
        var k1 = new float[old.Length];
        for (int i = 0; i < old.Length; i++) k1[i] = old[i] - reference[i];
        return PolicyGradient.MaskedMean(k1, mask);
    }

    public override void Dispose()
    {
        Reference?.Dispose();
        base.Dispose();
    }
}
