// Online DPO: DPO on pairs the current policy samples and an AI labeller ranks, each step.
// Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback", https://arxiv.org/abs/2402.04792.
// Follows TRL's experimental OnlineDPOTrainer (trl/experimental/online_dpo, read at commit 01d6a4e0 of its config):
// two completions per prompt, the reward functions' summed score decides (first wins ties, missing_eos_penalty
// subtracted from a completion with no EOS) or a pairwise judge does; then the sigmoid (or IPO) DPO loss on the
// sequence log-probs against the reference model. Defaults are OnlineDPOConfig's: beta 0.1, max_new_tokens 128,
// temperature 1.0, top_p 1.0, top_k 30, learning rate 5e-7. Ours: a pair whose scores are missing (no reward function
// applies, or the judge answers tie/unparsable) is not trained on, rather than read as a tie; train_on_ties: false
// also leaves out pairs whose scores are equal (a batch of ties only is sampled again; on the last try it is trained).
using System.ComponentModel;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Judges;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;

namespace AlignSharp.Training.Trainers;

/// <summary>Options of online DPO (TRL's OnlineDPOConfig, with its defaults).</summary>
public sealed record OnlineDpoOptions
{
    /// <summary>TRL's <c>beta</c>: strength of the KL penalty to the reference (τ for ipo). Default 0.1.</summary>
    [Description("KL penalty strength β: higher keeps the policy closer to the reference (τ for ipo)")]
    public float Beta { get; init; } = 0.1f;

    /// <summary>TRL's <c>loss_type</c>: sigmoid (DPO) or ipo. Default sigmoid.</summary>
    [Description("loss variant: sigmoid or ipo")]
    public DpoLossType LossType { get; init; } = DpoLossType.Sigmoid;

    /// <summary>TRL's <c>max_new_tokens</c>: tokens sampled at most per completion. Default 128.</summary>
    [Description("tokens sampled at most per completion")]
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>TRL's <c>temperature</c> of sampling. Default 1.0.</summary>
    [Description("sampling temperature")]
    public float Temperature { get; init; } = 1f;

    /// <summary>TRL's <c>top_p</c>. Default 1.0 (off).</summary>
    [Description("nucleus sampling: keep the smallest set of tokens reaching this probability (1 = off)")]
    public float TopP { get; init; } = 1f;

    /// <summary>TRL's <c>top_k</c>. Default 30 (OnlineDPOConfig's; 0 = off).</summary>
    [Description("keep only the k most likely tokens when sampling (0 = off)")]
    public int TopK { get; init; } = 30;

    /// <summary>TRL's <c>missing_eos_penalty</c>: subtracted from the score of a completion that ends without EOS (reward functions only). Default off.</summary>
    [Description("subtracted from the score of a completion cut at max_new_tokens (null: off)")]
    public float? MissingEosPenalty { get; init; }

    /// <summary>
    /// Whether a pair whose two scores are equal is trained on. TRL's OnlineDPOTrainer does (the first sample counts as
    /// chosen); false leaves such pairs out, as the offline pair builders do — with 0/1 verifier rewards ties are common
    /// and carry no preference. A batch whose every scored pair ties is sampled again, and trained as TRL would only
    /// when the tries run out.
    /// Default true (TRL's).
    /// </summary>
    [Description("train on pairs whose scores tie, the first sample as chosen (TRL); false leaves them out")]
    public bool TrainOnTies { get; init; } = true;

    /// <summary>A problem with the options, or null.</summary>
    public static string? Problem(OnlineDpoOptions o) =>
        !(o.Beta > 0) || float.IsInfinity(o.Beta) ? $"beta must be a positive number (got {o.Beta})"
        : o.LossType is not (DpoLossType.Sigmoid or DpoLossType.Ipo) ? $"loss_type must be sigmoid or ipo (got {Dpo.LossTypeName(o.LossType)})"
        : o.MaxNewTokens < 1 ? $"max_new_tokens must be at least 1 (got {o.MaxNewTokens})"
        : !(o.Temperature > 0) ? $"temperature must be positive (got {o.Temperature})"
        : !(o.TopP > 0 && o.TopP <= 1) ? $"top_p must be in (0, 1] (got {o.TopP})"
        : o.TopK < 0 ? $"top_k must be ≥ 0 (got {o.TopK})"
        : o.MissingEosPenalty is { } p && !(p >= 0) ? $"missing_eos_penalty must be ≥ 0 (got {p})"
        : null;
}

/// <summary>
/// Online DPO: per_device_train_batch_size × gradient_accumulation_steps prompts per optimizer step, two completions
/// each from the current policy, ranked by the reward functions (or a pairwise judge), one DPO step on the pairs.
/// </summary>
public sealed class OnlineDpoTrainer : OnlineTrainer
{
    private readonly OnlineDpoOptions _options;
    private readonly PairwiseJudge? _judge;
    private readonly ReferencePolicy _reference;

    /// <param name="judge">When given, it picks the better completion of each pair (both orders, as <see cref="PairwiseJudge"/> asks) instead of the reward functions' scores.</param>
    /// <param name="reference">The reference policy (default: the policy's starting weights; see <see cref="ReferencePolicy.For"/>).</param>
    public OnlineDpoTrainer(TrainingArguments args, TrainableModel model, IReadOnlyList<PromptRecord> prompts, ExampleTokenizer encoder, RewardFunctions rewards,
        OnlineDpoOptions options, int skippedRows = 0, PairwiseJudge? judge = null, TransformerModel? reference = null)
        : base(args, model, prompts, encoder, rewards, skippedRows)
    {
        if (OnlineDpoOptions.Problem(options) is { } problem) throw new TrainingException($"online_dpo: {problem}");
        if (judge is null && rewards.Functions.Count == 0) throw new TrainingException("online_dpo: give reward functions (reward_funcs) or a pairwise judge to rank the two completions");
        _options = options;
        _judge = judge;
        _reference = ReferencePolicy.For(model, reference);
        int prompts2 = args.PerDeviceTrainBatchSize * args.GradientAccumulationSteps;
        Plan = new RolloutPlan(prompts2, 2, 1, prompts2, new SamplingOptions
        {
            MaxNewTokens = options.MaxNewTokens, Temperature = options.Temperature, TopP = options.TopP, TopK = options.TopK,
        });
    }

    protected override RolloutPlan Plan { get; }

    protected override GenerationBatch Prepare(Rollout[] rollouts, RewardTable rewards)
    {
        int pairs = rollouts.Length / 2;
        var first = new float[pairs]; // 1: the first sample is chosen, 0: the second, NaN: not trained on
        var scores = rewards.Weighted();
        if (_options.MissingEosPenalty is { } penalty)
            for (int i = 0; i < rollouts.Length; i++)
                if (rollouts[i].Finish == FinishReason.Length) scores[i] -= penalty;
        if (_judge is not null)
        {
            var judged = _judge.JudgeBatchAsync(Enumerable.Range(0, pairs).Select(p => new PairItem(rollouts[2 * p].Prompt, rollouts[2 * p].Text, rollouts[2 * p + 1].Text)).ToList(),
                maxConcurrency: Rewards.MaxConcurrency).GetAwaiter().GetResult();
            for (int p = 0; p < pairs; p++)
                first[p] = judged[p].Verdict.Preferred switch { PairwisePreference.A => 1f, PairwisePreference.B => 0f, _ => float.NaN };
        }
        bool tiesTrained = false;
        if (_judge is null)
        {
            bool Scored(int p) => !float.IsNaN(scores[2 * p]) && !float.IsNaN(scores[2 * p + 1]);
            // Without train_on_ties a batch whose every scored pair ties is sampled again; on the last try it is trained
            // as TRL trains ties (first sample chosen) rather than stopping the run: such prompts offer nothing better.
            tiesTrained = _options.TrainOnTies || (LastGenerationAttempt && !Enumerable.Range(0, pairs).Any(p => Scored(p) && scores[2 * p] != scores[2 * p + 1]));
            for (int p = 0; p < pairs; p++)
                first[p] = !Scored(p) || (!tiesTrained && scores[2 * p] == scores[2 * p + 1]) ? float.NaN : scores[2 * p] >= scores[2 * p + 1] ? 1f : 0f;
        }

        var kept = Enumerable.Range(0, pairs).Where(p => !float.IsNaN(first[p])).ToArray();
        if (kept.Length == 0) return new GenerationBatch([], 0); // nothing to learn from: the base samples again
        var ordered = kept.SelectMany(p => first[p] == 1f ? new[] { rollouts[2 * p], rollouts[2 * p + 1] } : [rollouts[2 * p + 1], rollouts[2 * p]]).ToArray();
        var batch = new GenerationBatch(ordered, kept.Length); // row p: rollouts 2p (chosen) and 2p + 1 (rejected)
        var reference = _reference.PerTokenLogProbs(RowsOf(ordered));
        var sums = reference.Select(r => (float)r.Sum(x => (double)x)).ToArray();   // [2·Rows]: chosen, rejected of each pair
        batch.RowValues["ref_logps_chosen"] = kept.Select((_, row) => sums[2 * row]).ToArray();
        batch.RowValues["ref_logps_rejected"] = kept.Select((_, row) => sums[2 * row + 1]).ToArray();
        batch.Metrics["pairs/kept_fraction"] = pairs == 0 ? 0 : kept.Length / (double)pairs;
        batch.Metrics["pairs/ties_trained"] = tiesTrained ? 1 : 0;
        if (_judge is null)
        {
            var margins = kept.Select(p => (double)Math.Abs(scores[2 * p] - scores[2 * p + 1])).ToArray();
            batch.Metrics["objective/scores_margin"] = margins.Length == 0 ? 0 : margins.Average();
        }
        batch.Metrics["val/contain_eos_token"] = rollouts.Count(r => r.Finish == FinishReason.Stop) / (double)rollouts.Length;
        return batch;
    }

    protected override BatchLoss ComputeLoss(GenerationBatch batch, int[] rows, int iteration)
    {
        int n = rows.Length;
        var rollouts = rows.Select(r => batch.Rollouts[2 * r]).Concat(rows.Select(r => batch.Rollouts[2 * r + 1])).ToList(); // chosen rows, then rejected
        // DPO's π is the model's own distribution (temperature 1), whatever temperature sampled the pair.
        var forward = Forward(rollouts, entropy: false, temperature: 1f);
        var sums = Ops.SumLastAxis(Ops.Mul(forward.LogProbs, Tensor.FromArray(forward.Mask, forward.B, forward.T))); // [2n]
        var counts = rollouts.Select(r => r.CompletionIds.Length).ToArray();
        var refs = rows.Select(r => batch.RowValues["ref_logps_chosen"][r]).Concat(rows.Select(r => batch.RowValues["ref_logps_rejected"][r])).ToArray();
        var result = Dpo.Loss(Ops.Narrow(sums, 0, 0, n), Ops.Narrow(sums, 0, n, n), Tensor.FromArray(refs.AsSpan(0, n), n), Tensor.FromArray(refs.AsSpan(n, n), n),
            counts.AsSpan(0, n), counts.AsSpan(n, n), new DpoOptions { Beta = _options.Beta, LossType = _options.LossType });
        var metrics = new Dictionary<string, float>(result.Metrics) { ["beta"] = _options.Beta };
        return new BatchLoss(result.Loss, metrics, counts.Sum());
    }

    public override void Dispose()
    {
        _reference.Dispose();
        base.Dispose();
    }
}
