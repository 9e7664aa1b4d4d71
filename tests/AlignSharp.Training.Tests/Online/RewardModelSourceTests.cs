using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Data;
using AlignSharp.Training.Methods;
using AlignSharp.Training.Online;
using AlignSharp.Training.Tests.Methods;
using Microsoft.Extensions.AI;

namespace AlignSharp.Training.Tests.Online;

/// <summary>A reward model folder written by `train rm` (one step on the tiny Llama), scored as a signal source.</summary>
public class RewardModelSourceTests : IDisposable
{
    private readonly TinyModel _tiny = new();
    public void Dispose() => _tiny.Dispose();

    string TrainRewardModel(string name, string steps = "1")
    {
        var values = new (string Key, string Value)[]
        {
            ("method", "rm"), ("model", _tiny.Folder), ("dataset", TinyModel.Examples("preference_chat.jsonl")), ("output_dir", _tiny.In(name)),
            ("max_steps", steps), ("per_device_train_batch_size", "4"), ("learning_rate", "0.01"), ("seed", "3"), ("max_length", "256"),
        }.Select((p, i) => (p.Key, p.Value, Source: $"r.yaml:{i + 1}")).ToDictionary(p => p.Key, p => (p.Value, p.Source));
        using var run = TrainingRun.FromRecipe(values);
        run.Train();
        return _tiny.In(name);
    }

    /// <summary>The recipe's max_length, as TrainingMethod.Truncation reads it (no row here is that long: a cut prompt depends on the pair's longer completion).</summary>
    static readonly TruncationOptions Truncation = new() { MaxLength = 256 };

    static PromptRecord Record(PreferenceRow row) =>
        new(row.Origin, row.Prompt.MessageList.Select(m => new ChatMessage(new ChatRole(m.GetProperty("role").GetString()!), m.GetProperty("content").GetString())).ToList(),
            "", new Dictionary<string, string>());

    static string Reply(TextOrMessages completion) => completion.MessageList.Single().GetProperty("content").GetString()!;

    /// <summary>The reward model trainer's path: ExampleTokenizer.Preference, Collator.Preference with the encoder's pad id, SequenceScores. [2n]: chosen then rejected.</summary>
    static float[] TrainerScores(string folder, IReadOnlyList<PreferenceRow> rows, out List<PreferenceExample> examples)
    {
        var encoder = ExampleTokenizer.FromFolder(folder);
        examples = rows.Select(r => encoder.Preference(r, Truncation)).ToList();
        using var model = ValueHeadModel.Load(folder);
        Assert.Equal(encoder.PadId, model.PadTokenId);
        using var noGrad = Autograd.NoGrad();
        var seq = Collator.Preference(examples, encoder.PadId).Sequences;
        return model.SequenceScores(seq.InputIds, seq.B, seq.T, Tensor.FromArray(seq.AttentionMask, seq.B, seq.T), seq.PositionIds).ToArray();
    }

    [Fact]
    public async Task Scores_what_the_reward_model_trainer_scores_on_the_same_tokens_batched_or_one_by_one()
    {
        string folder = TrainRewardModel("rm");
        var rows = JsonlDataset.ReadAll(TinyModel.Examples("preference_chat.jsonl"), DatasetKind.Preference).Cast<PreferenceRow>().ToList();
        var expected = TrainerScores(folder, rows, out var examples);
        using var source = RewardModelSource.FromFolder(folder, new RewardModelSourceOptions { BatchSize = 3, Truncation = Truncation });
        Assert.Equal("reward_model:rm", source.Name);

        int n = rows.Count;
        var items = rows.Select(r => new SignalItem(Record(r), Reply(r.Chosen))).Concat(rows.Select(r => new SignalItem(Record(r), Reply(r.Rejected)))).ToList();
        for (int i = 0; i < n; i++)
        {
            Assert.Equal([.. examples[i].Prompt, .. examples[i].Chosen], source.Tokens(items[i].Prompt, items[i].Response));
            Assert.Equal([.. examples[i].Prompt, .. examples[i].Rejected], source.Tokens(items[n + i].Prompt, items[n + i].Response));
        }

        var batched = await ((ISignalSource)source).ScoreBatchAsync(items, 4);
        var single = items.Select(item => source.Score(item.Prompt, item.Response)!.Score).ToArray();
        double maxTrainer = 0, maxSingle = 0;
        for (int i = 0; i < 2 * n; i++)
        {
            Assert.False(batched[i]!.Unparsable);
            Assert.Equal("reward_model:rm", batched[i]!.Provenance.Source);
            maxTrainer = Math.Max(maxTrainer, Math.Abs(batched[i]!.Score - expected[i]));
            maxSingle = Math.Max(maxSingle, Math.Abs(batched[i]!.Score - single[i]));
        }
        Assert.True(maxTrainer <= 1e-5, $"batched vs the trainer's scores: max |Δ| {maxTrainer}");
        Assert.True(maxSingle <= 1e-5, $"batched vs one by one: max |Δ| {maxSingle}");
        Assert.True(expected.Distinct().Count() > n, "the scores should vary across rows");

        // As a reward function: the same scores, in rollout order.
        var rollouts = items.Select(item => new Rollout(item.Prompt, [], [], [], item.Response, FinishReason.Stop)).ToArray();
        var table = await new RewardFunctions([new(source)]).ScoreAsync(rollouts);
        Assert.Equal(batched.Select(l => (float)l!.Score), table.Column(0));
    }

    [Fact]
    public void Standard_rows_and_truncation_render_as_the_trainer_renders_them()
    {
        string folder = _tiny.Folder;   // any folder with a tokenizer; the score head is not needed for tokens
        var encoder = ExampleTokenizer.FromFolder(folder);
        using var model = ValueHeadModel.Create(Models.Transformers.HuggingFaceFolder.Load(folder));
        var truncation = new TruncationOptions { MaxLength = 12, MaxPromptLength = 8 };
        using var standard = new RewardModelSource(model, encoder, "rm", "h", new RewardModelSourceOptions { Conversational = false, Truncation = truncation });
        var row = new PreferenceRow("r:1", TextOrMessages.FromText("What is 54 - 33? Explain the steps."), TextOrMessages.FromText(" 54 - 33 = 21."), TextOrMessages.FromText(" 22"));
        var example = encoder.Preference(row, truncation);
        var prompt = new PromptRecord("q", "What is 54 - 33? Explain the steps.", "", new Dictionary<string, string>());
        Assert.Equal([.. example.Prompt, .. example.Chosen], standard.Tokens(prompt, " 54 - 33 = 21."));
        Assert.True(example.Prompt.Length + example.Chosen.Length <= 12);

        var twoTurns = new PromptRecord("t", [new ChatMessage(ChatRole.System, "be brief"), new ChatMessage(ChatRole.User, "hi")], "", new Dictionary<string, string>());
        var e = Assert.Throws<TrainingException>(() => standard.Tokens(twoTurns, "hello"));
        Assert.Contains("prompt t: has 2 messages", e.Message);
    }

    [Fact]
    public void The_fingerprint_follows_the_weights_and_settings()
    {
        string folder = TrainRewardModel("rm");
        string again = TrainRewardModel("rm2", steps: "2");
        using var a = RewardModelSource.FromFolder(folder, new RewardModelSourceOptions { Name = "rm" });
        using var b = RewardModelSource.FromFolder(folder, new RewardModelSourceOptions { Name = "rm" });
        using var retrained = RewardModelSource.FromFolder(again, new RewardModelSourceOptions { Name = "rm" });
        using var cut = RewardModelSource.FromFolder(folder, new RewardModelSourceOptions { Name = "rm", Truncation = new TruncationOptions { MaxLength = 64 } });
        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.StartsWith("rm@v1#", a.Fingerprint);
        Assert.NotEqual(a.Fingerprint, retrained.Fingerprint);
        Assert.NotEqual(a.Fingerprint, cut.Fingerprint);
        Assert.NotEqual(RewardModelSource.HashFiles(folder), RewardModelSource.HashFiles(again));
    }

    [Fact]
    public void A_folder_without_a_score_head_or_weights_is_refused_naming_it()
    {
        var e = Assert.Throws<TrainingException>(() => RewardModelSource.FromFolder(_tiny.Folder));
        Assert.Contains("no tensor 'score.weight'", e.Message);
        e = Assert.Throws<TrainingException>(() => RewardModelSource.FromFolder(_tiny.In("missing")));
        Assert.EndsWith("missing: reward model folder not found", e.Message);
        Directory.CreateDirectory(_tiny.In("empty"));
        e = Assert.Throws<TrainingException>(() => RewardModelSource.FromFolder(_tiny.In("empty")));
        Assert.Contains("no *.safetensors weights", e.Message);
    }
}
