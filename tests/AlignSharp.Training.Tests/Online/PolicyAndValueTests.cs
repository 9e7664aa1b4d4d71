using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;
using AlignSharp.Training.Core;
using AlignSharp.Training.Online;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Tests.Online;

public class PolicyAndValueTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-ppo-critic-" + Guid.NewGuid().ToString("N"));
    private static readonly ModelConfig Config = ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = 40 };

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static PolicyAndValue Create(bool lora, ValueModelKind kind, ulong seed)
    {
        var body = TransformerModel.Create(Config, seed);
        TrainableModel policy = lora ? new LoraCausalLm(body, new LoraConfig(Rank: 2, Alpha: 4), seed: seed + 1) : new FullCausalLm(body);
        return kind == ValueModelKind.Separate
            ? PolicyAndValue.WithCritic(policy, ValueHeadModel.Create(TransformerModel.Create(Config, seed + 2), seed + 3))
            : PolicyAndValue.WithSharedHead(policy, seed + 3);
    }

    /// <summary>Every trainable tensor set to fresh random values (LoRA's B starts at 0, which would hide a missed copy).</summary>
    private static void Scramble(PolicyAndValue model, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var (_, t) in model.Trainable) rng.FillNormal(t.Span, 0f, 0.1f);
    }

    [Theory]
    [InlineData(false, ValueModelKind.Separate)]
    [InlineData(false, ValueModelKind.Shared)]
    [InlineData(true, ValueModelKind.Separate)]
    [InlineData(true, ValueModelKind.Shared)]
    public void Save_then_restore_gives_back_every_trainable_weight(bool lora, ValueModelKind kind)
    {
        string folder = Path.Combine(_dir, "checkpoint");
        using var saved = Create(lora, kind, seed: 1);
        Scramble(saved, 5);
        saved.Save(folder);
        Assert.Equal(kind, saved.Kind);
        Assert.Equal(kind == ValueModelKind.Separate, Directory.Exists(Path.Combine(folder, PolicyAndValue.ValueModelFolder)));
        Assert.Equal(kind == ValueModelKind.Shared, File.Exists(Path.Combine(folder, PolicyAndValue.ValueHeadFile)));
        Assert.Contains(saved.Trainable, p => p.Name == (kind == ValueModelKind.Separate ? "value_model.score.weight" : PolicyAndValue.ValueHeadName));
        Assert.Equal(saved.Trainable.Count, saved.Trainable.Select(p => p.Name).Distinct().Count());

        using var restored = Create(lora, kind, seed: 9);
        restored.Restore(folder);
        Assert.Equal(saved.Trainable.Select(p => p.Name), restored.Trainable.Select(p => p.Name));
        for (int i = 0; i < saved.Trainable.Count; i++)
            Assert.True(saved.Trainable[i].Tensor.Span.SequenceEqual(restored.Trainable[i].Tensor.Span), saved.Trainable[i].Name);
    }

    [Fact]
    public void The_checkpoint_loads_as_the_policy_and_the_critic_as_a_sequence_classifier()
    {
        string folder = Path.Combine(_dir, "out");
        using var model = Create(lora: false, ValueModelKind.Separate, seed: 1);
        Scramble(model, 3);
        model.Save(folder);
        using var policy = HuggingFaceFolder.Load(folder);
        foreach (var (name, t) in model.Policy.Trainable) Assert.True(policy.Parameters[name].Span.SequenceEqual(t.Span), name);
        using var critic = ValueHeadModel.Load(Path.Combine(folder, PolicyAndValue.ValueModelFolder));
        Assert.True(critic.Score.Span.SequenceEqual(model.Critic!.Score.Span));
    }

    [Fact]
    public void Restoring_the_other_critic_kind_names_the_key()
    {
        string folder = Path.Combine(_dir, "shared");
        using (var shared = Create(lora: true, ValueModelKind.Shared, seed: 1)) shared.Save(folder);
        using var separate = Create(lora: true, ValueModelKind.Separate, seed: 1);
        var e = Assert.Throws<TrainingException>(() => separate.Restore(folder));
        Assert.Contains("value_model: separate", e.Message);
    }

    private static readonly CompletionRow[] Rows = [new([1, 2, 3], [4, 5]), new([6], [7, 8, 9, 10]), new([11, 12], [])];

    [Fact]
    public void Separate_critic_values_are_read_where_each_completion_token_is_predicted()
    {
        using var model = Create(lora: false, ValueModelKind.Separate, seed: 1);
        int t = 4;
        var values = model.Values(Rows, t);                                                      // [B, T]
        Assert.Equal([Rows.Length, t], values.Shape.ToArray());
        var actual = values.ToArray();
        for (int b = 0; b < Rows.Length; b++)
        {
            var (prompt, completion) = (Rows[b].PromptIds, Rows[b].CompletionIds);
            int[] ids = [.. prompt, .. completion];
            var alone = model.Critic!.Values(ids, 1, ids.Length).ToArray();                       // the row unpadded
            for (int j = 0; j <= Math.Min(completion.Length, t - 1); j++)                          // completion and one past it (TRL's value mask)
                Assert.Equal(alone[prompt.Length - 1 + j], actual[b * t + j], 4);
        }
        Ops.Sum(values).Backward();
        Assert.Contains(model.Critic!.Score.Grad!.ToArray(), g => g != 0f);
    }

    [Fact]
    public void Shared_head_reads_the_policys_hidden_states()
    {
        using var model = Create(lora: true, ValueModelKind.Shared, seed: 1);
        int b = 2, t = 3, c = Config.HiddenSize;
        var hidden = Tensor.FromArray(Enumerable.Range(0, b * t * c).Select(i => MathF.Sin(i)).ToArray(), b, t, c);
        var values = model.Values(Rows[..b], t, hidden).ToArray();
        var head = model.ValueHead!.ToArray();
        var h = hidden.ToArray();
        for (int i = 0; i < b * t; i++)
        {
            double expected = 0;
            for (int k = 0; k < c; k++) expected += (double)head[k] * h[i * c + k];
            Assert.Equal(expected, values[i], 4);
        }
        Assert.Throws<ArgumentException>(() => model.Values(Rows[..b], t));
    }
}
