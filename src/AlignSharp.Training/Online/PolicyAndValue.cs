using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Online;

/// <summary>
/// What PPO trains: the policy (full or LoRA) and its critic, either a separate value model trained in full (TRL's
/// <c>value_model</c>, a body + score head started from the reward model or the policy) or a [1, C] value head on the
/// policy's final hidden states (shared trunk). Saved so the folder loads as the policy: the policy exactly as its own
/// <see cref="TrainableModel.Save"/> writes it, the critic beside it in <c>value_model/</c> (a *ForSequenceClassification
/// folder) or <c>value_head.safetensors</c>.
/// </summary>
public sealed class PolicyAndValue : TrainableModel
{
    /// <summary>Subfolder of a checkpoint holding a separate critic.</summary>
    public const string ValueModelFolder = "value_model";

    /// <summary>File of a checkpoint holding a shared-trunk value head.</summary>
    public const string ValueHeadFile = "value_head.safetensors";

    /// <summary>The shared value head's tensor name (in <see cref="ValueHeadFile"/> and among <see cref="Trainable"/>).</summary>
    public const string ValueHeadName = "value_head.weight";

    private const string CriticPrefix = "value_model.";

    public TrainableModel Policy { get; }

    /// <summary>The separate critic (null with a shared value head).</summary>
    public ValueHeadModel? Critic { get; }

    /// <summary>The shared value head [1, C] (null with a separate critic).</summary>
    public Tensor? ValueHead { get; }

    public ValueModelKind Kind => Critic is null ? ValueModelKind.Shared : ValueModelKind.Separate;

    private PolicyAndValue(TrainableModel policy, ValueHeadModel? critic, Tensor? valueHead)
    {
        Policy = policy;
        Critic = critic;
        ValueHead = valueHead;
        var trainable = policy.Trainable.ToList();
        if (critic is not null)
        {
            critic.Body.SetTrainable(true);
            trainable.AddRange(critic.SavedParameters.Select(p => (CriticPrefix + p.Name, p.Tensor)));
        }
        else trainable.Add((ValueHeadName, valueHead!));
        Trainable = trainable;
    }

    /// <summary>The policy and a separate critic, trained in full; this object owns both.</summary>
    public static PolicyAndValue WithCritic(TrainableModel policy, ValueHeadModel critic)
    {
        if (critic.Body.Config.VocabSize != policy.Transformer.Config.VocabSize)
            throw new TrainingException($"value model: vocabulary of {critic.Body.Config.VocabSize} tokens, the policy has {policy.Transformer.Config.VocabSize}; the critic reads the policy's token ids, so it needs the same tokenizer");
        return new PolicyAndValue(policy, critic, null);
    }

    /// <summary>The policy and a new value head N(0, 0.02) [1, C] on its final hidden states; this object owns the policy.</summary>
    public static PolicyAndValue WithSharedHead(TrainableModel policy, ulong seed)
    {
        var head = Tensor.Parameter(1, policy.Transformer.Config.HiddenSize);
        new Rng(seed).FillNormal(head.Span, 0f, 0.02f);
        return new PolicyAndValue(policy, null, head);
    }

    public override TransformerModel Transformer => Policy.Transformer;
    public override IReadOnlyList<(string Name, Tensor Tensor)> Trainable { get; }
    public override IReadOnlyDictionary<string, Rng> Generators => Policy.Generators;

    /// <summary>
    /// The critic's values [B, T] at the positions that predict each completion token (TRL's
    /// value[:, context_length − 1 : −1]): column t of row b is read at position |prompt_b| − 1 + t, so column
    /// |completion_b| (one past the completion, where TRL still trains the value) is the completion's last token.
    /// </summary>
    /// <param name="rows">Prompt + completion rows (every prompt non-empty).</param>
    /// <param name="t">Columns T (the longest completion of the rollout batch, at least each row's completion length).</param>
    /// <param name="policyHidden">[B, T, C] the policy's final hidden states at those positions (<see cref="CompletionForward.Hidden"/>); required with a shared head, ignored otherwise.</param>
    public Tensor Values(IReadOnlyList<CompletionRow> rows, int t, Tensor? policyHidden = null)
    {
        int b = rows.Count;
        if (b == 0 || t < 1) throw new ArgumentException($"values: {b} rows with {t} columns", nameof(rows));
        if (ValueHead is not null)
        {
            if (policyHidden is null || policyHidden.Rank != 3 || policyHidden.Dim(0) != b || policyHidden.Dim(1) != t)
                throw new ArgumentException($"values: a shared value head needs the policy's hidden states [{b}, {t}, C] (CompletionLogProbs.Compute with keepHidden: true)", nameof(policyHidden));
            return Ops.Linear(policyHidden, ValueHead).Reshape(b, t);
        }

        int maxPrompt = 0;
        foreach (var row in rows)
        {
            if (row.PromptIds.Length == 0) throw new ArgumentException("values: a row has an empty prompt; the first completion token needs a position that predicts it", nameof(rows));
            if (row.CompletionIds.Length > t) throw new ArgumentException($"values: a completion of {row.CompletionIds.Length} tokens does not fit {t} columns", nameof(t));
            maxPrompt = Math.Max(maxPrompt, row.PromptIds.Length);
        }
        int length = maxPrompt + t;                              // every row's last read position |prompt| − 1 + T fits
        var ids = new int[b * length];
        var attention = new float[b * length];
        for (int i = 0; i < b; i++)
        {
            var (prompt, completion) = (rows[i].PromptIds, rows[i].CompletionIds);
            prompt.CopyTo(ids, i * length);
            completion.CopyTo(ids, i * length + prompt.Length);
            attention.AsSpan(i * length, prompt.Length + completion.Length).Fill(1f);
        }
        var values = Critic!.Values(ids, b, length, Tensor.FromArray(attention, b, length));   // [B, L]
        var picked = new Tensor[b];
        for (int i = 0; i < b; i++) picked[i] = Ops.Narrow(Ops.Narrow(values, 0, i, 1), 1, rows[i].PromptIds.Length - 1, t);   // [1, T]
        return b == 1 ? picked[0] : Ops.Concat(picked, 0);                                                                      // [B, T]
    }

    public override void Save(string folder)
    {
        Policy.Save(folder);
        if (Critic is not null) Critic.Save(Path.Combine(folder, ValueModelFolder));
        else
        {
            var head = ValueHead!;
            SafetensorsWriter.Write(Path.Combine(folder, ValueHeadFile),
                [new TensorToWrite(ValueHeadName, [1, head.Dim(1)], span => head.Span.CopyTo(span))], new Dictionary<string, string> { ["format"] = "pt" });
        }
    }

    public override void Restore(string folder)
    {
        Policy.Restore(folder);
        if (Critic is not null)
        {
            string criticFolder = Path.Combine(folder, ValueModelFolder);
            if (!Directory.Exists(criticFolder))
                throw new TrainingException($"{folder}: no {ValueModelFolder}/ (the PPO critic); this run trains a separate value model, so resume with value_model: separate (as the run started) or use a new output_dir");
            using var saved = ValueHeadModel.Load(criticFolder);
            CopyInto(Critic.SavedParameters.ToList(), saved.SavedParameters.ToDictionary(p => p.Name, p => p.Tensor), criticFolder);
        }
        else
        {
            string path = Path.Combine(folder, ValueHeadFile);
            if (!File.Exists(path))
                throw new TrainingException($"{folder}: no {ValueHeadFile} (the PPO value head); this run trains a shared value head, so resume with value_model: shared (as the run started) or use a new output_dir");
            using var file = SafetensorsFile.Open(path);
            if (!file.Tensors.ContainsKey(ValueHeadName)) throw new TrainingException($"{path}: no tensor '{ValueHeadName}'");
            var values = file.ReadFloat32(ValueHeadName);
            if (values.Length != ValueHead!.Length)
                throw new TrainingException($"{path}: '{ValueHeadName}' has {values.Length} values, expected [1, {ValueHead.Dim(1)}] (the policy's hidden size)");
            values.CopyTo(ValueHead.Span);
        }
    }

    public override void Dispose()
    {
        Policy.Dispose();
        Critic?.Dispose();
        ValueHead?.Dispose();
    }
}
