// A trained reward model (*ForSequenceClassification, `alignsharp train rm`) as a signal source: TRL's reward_funcs
// entry given as a model (GRPOTrainer scores a completion with AutoModelForSequenceClassification(...).logits[:, 0]).
// It lives in Training, not Feedback, because scoring "as the reward model was trained" means rendering through the
// very code the reward model trainer's data went through (ExampleTokenizer.Encode, TrlRows, Collator), which is Training's.
using System.Security.Cryptography;
using AlignSharp.Feedback;
using AlignSharp.Models.Checkpoints;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Online;

/// <summary>How a <see cref="RewardModelSource"/> renders and batches.</summary>
public sealed record RewardModelSourceOptions
{
    /// <summary>The source's name (metric key rewards/{name}/mean, provenance); null: <c>reward_model:FOLDER-NAME</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Rows per forward pass.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>
    /// Render as a conversational row (the prompt's messages, the response as an assistant turn, through the chat
    /// template), as a reward model trained on conversational preference rows saw them; false: as a standard row (the
    /// prompt's single user turn as text, the response as text + EOS), for one trained on string rows.
    /// </summary>
    public bool Conversational { get; init; } = true;

    /// <summary>
    /// The reward model's training max_length / max_prompt_length / truncation_mode, so a long row is cut as in training.
    /// Default: no limit. (Training cuts a pair's prompt to fit its longer completion; here each response is cut alone.)
    /// </summary>
    public TruncationOptions Truncation { get; init; } = TruncationOptions.None;
}

/// <summary>
/// A reward model folder as an <see cref="ISignalSource"/>: each (prompt, response) is rendered and tokenized exactly as
/// the reward model trainer renders a preference row's prompt + chosen (<see cref="ExampleTokenizer.Encode"/> on
/// <see cref="TrlRows"/>' fields, cut by <see cref="RewardModelSourceOptions.Truncation"/>), right-padded with the model's
/// pad id, and scored where the trainer reads the score (<see cref="ValueHeadModel.SequenceScores"/>: the rightmost
/// token that is not the pad id). The score is the head's raw output (unbounded, higher is better); the source applies to
/// every prompt (never null). Scoring is batched (<see cref="RewardModelSourceOptions.BatchSize"/> rows per forward,
/// rows of similar length together) and one batch at a time per source.
/// </summary>
public sealed class RewardModelSource : ISignalSource, IDisposable
{
    readonly ValueHeadModel _model;
    readonly ExampleTokenizer _encoder;
    readonly RewardModelSourceOptions _options;
    readonly string? _modelId;
    readonly object _forward = new();

    /// <summary>A reward model already loaded. <paramref name="weightsHash"/> identifies its weights (see <see cref="HashFiles"/>) for the fingerprint; the source owns <paramref name="model"/>.</summary>
    /// <param name="modelId">The model's folder or id, recorded in each label's provenance.</param>
    public RewardModelSource(ValueHeadModel model, ExampleTokenizer encoder, string name, string weightsHash, RewardModelSourceOptions? options = null, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _options = options ?? new RewardModelSourceOptions();
        if (_options.BatchSize < 1) throw new TrainingException($"{name}: batch size must be at least 1 (got {_options.BatchSize})");
        _model = model; _encoder = encoder; _modelId = modelId;
        _model.PadTokenId ??= encoder.PadId;   // as TRL's reward trainer sets it: the tokenizer's pad token, else EOS
        Name = name;
        var t = _options.Truncation;
        Fingerprint = SignalFingerprint.Of(name, 1, string.Join("|", $"weights={weightsHash}", $"pad={_model.PadTokenId}",
            $"conversational={_options.Conversational}", $"max_length={t.MaxLength}", $"max_prompt_length={t.MaxPromptLength}",
            $"max_completion_length={t.MaxCompletionLength}", $"truncation_mode={t.Mode}"));
    }

    /// <summary>
    /// Loads a reward model folder: its *ForSequenceClassification weights, tokenizer and chat template (the folder's
    /// own, else the ChatML fallback, as training). The fingerprint hashes the content of the weights, config,
    /// tokenizer and tokenizer_config files, so a retrained or re-templated model is a new source.
    /// </summary>
    /// <exception cref="TrainingException">The folder or a file is missing, or the folder holds no score head.</exception>
    public static RewardModelSource FromFolder(string folder, RewardModelSourceOptions? options = null)
    {
        if (!Directory.Exists(folder)) throw new TrainingException($"{folder}: reward model folder not found");
        options ??= new RewardModelSourceOptions();
        string hash = HashFiles(folder);
        var encoder = ExampleTokenizer.FromFolder(folder);
        ValueHeadModel model;
        try { model = ValueHeadModel.Load(folder); }
        catch (ModelFormatException e) { throw new TrainingException($"reward model: {e.Message}"); }
        string name = options.Name ?? $"reward_model:{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)))}";
        return new RewardModelSource(model, encoder, name, hash, options, Path.GetFullPath(folder));
    }

    /// <summary>
    /// The first 16 hex digits of the SHA-256 over the folder's weights (*.safetensors, the shard index), config.json,
    /// tokenizer.json and tokenizer_config.json, each file's name and length before its bytes, in ordinal name order.
    /// </summary>
    public static string HashFiles(string folder)
    {
        string[] named = ["config.json", SafetensorsCheckpoint.IndexFileName, "tokenizer.json", "tokenizer_config.json"];
        var files = Directory.GetFiles(folder, "*.safetensors").Concat(named.Select(n => Path.Combine(folder, n)).Where(File.Exists))
            .OrderBy(Path.GetFileName, StringComparer.Ordinal).ToList();
        if (!files.Any(f => f.EndsWith(".safetensors", StringComparison.Ordinal)))
            throw new TrainingException($"{folder}: no *.safetensors weights; point the reward model at a folder written by `alignsharp train rm`");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{Path.GetFileName(file)}\n{stream.Length}\n"));
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    public string Name { get; }

    public string Fingerprint { get; }

    /// <summary>The reward model.</summary>
    public ValueHeadModel Model => _model;

    /// <summary>The tokenizer and chat template rows are rendered with.</summary>
    public ExampleTokenizer Encoder => _encoder;

    /// <summary>The row a response is scored on: prompt + response tokens as the reward model trainer builds prompt + chosen, cut by the truncation options.</summary>
    public int[] Tokens(PromptRecord prompt, string response)
    {
        string origin = $"prompt {prompt.Id}";
        var (promptIds, completions) = _encoder.Encode(origin, TrlRows.Prompt(prompt, _options.Conversational), TrlRows.Completion(response, _options.Conversational));
        (promptIds, completions) = _options.Truncation.Apply(promptIds, completions);
        return [.. promptIds, .. completions[0]];
    }

    public FeedbackLabel? Score(PromptRecord prompt, string response) => ScoreRows([Tokens(prompt, response)], CancellationToken.None)[0];

    public ValueTask<FeedbackLabel?> ScoreAsync(PromptRecord prompt, string response, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Score(prompt, response));
    }

    /// <summary>Scores every item in batches of <see cref="RewardModelSourceOptions.BatchSize"/> rows (<paramref name="maxConcurrency"/> is not used: the forwards run one after another).</summary>
    public ValueTask<FeedbackLabel?[]> ScoreBatchAsync(IReadOnlyList<SignalItem> items, int maxConcurrency = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var rows = items.Select(item => Tokens(item.Prompt, item.Response)).ToArray();
        return ValueTask.FromResult(ScoreRows(rows, cancellationToken));
    }

    /// <summary>Batched forwards under NoGrad, rows sorted by length so a batch pads little; labels in the rows' order.</summary>
    FeedbackLabel?[] ScoreRows(int[][] rows, CancellationToken cancellationToken)
    {
        var labels = new FeedbackLabel?[rows.Length];
        var order = Enumerable.Range(0, rows.Length).OrderBy(i => rows[i].Length).ToArray();
        int padId = _model.PadTokenId ?? _encoder.PadId;
        for (int start = 0; start < order.Length; start += _options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = order.Skip(start).Take(_options.BatchSize).ToArray();
            var started = DateTimeOffset.UtcNow;
            float[] scores;   // [B]
            lock (_forward)
            {
                using var noGrad = Autograd.NoGrad();
                using var scope = new TensorScope();
                var batch = Collator.Sft(chunk.Select(i => new SftExample(rows[i], rows[i])).ToList(), padId);
                scores = _model.SequenceScores(batch.InputIds, batch.B, batch.T, Tensor.FromArray(batch.AttentionMask, batch.B, batch.T), batch.PositionIds).ToArray();
            }
            double elapsedMs = (DateTimeOffset.UtcNow - started).TotalMilliseconds / chunk.Length;
            for (int k = 0; k < chunk.Length; k++)
                labels[chunk[k]] = new FeedbackLabel(scores[k], FormattableString.Invariant($"reward model score {scores[k]:0.###}"),
                    new Provenance(Name, SignalKind.Judge, Model: _modelId, Fingerprint: Fingerprint, CreatedAt: started, ElapsedMs: elapsedMs));
        }
        return labels;
    }

    public void Dispose() => _model.Dispose();
}
