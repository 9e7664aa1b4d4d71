using AlignSharp.Models.Generation;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Lora;

/// <summary>
/// A pass of the base model alone (<c>withAdapters: false</c>, a LoRA run's reference policy) asks for it per call:
/// it equals the model without adapters bitwise, and the adapters stay attached, so anything else using the model
/// at the same time still sees them. Generation leaves them alone too.
/// </summary>
public class WithoutAdaptersTests
{
    private static readonly int[] Ids = [3, 1, 4, 1, 5, 9, 2, 6];

    /// <summary>A tiny model with a non-zero adapter on every linear layer (lm_head included), so the adapter visibly changes the output.</summary>
    private static (TransformerModel Model, LoraAdapters Adapters) Adapted(Architecture arch, float dropout = 0f)
    {
        var model = TransformerModel.Create(ModelPresets.Get("tiny", arch), seed: 21);
        var adapters = LoraAdapters.Create(model, new LoraConfig(Rank: 4, Alpha: 8, Dropout: dropout, TargetRegex: ".*"), seed: 3);
        var rng = new Rng(4);
        foreach (var (_, b) in adapters.Modules.Values) rng.FillNormal(b.Span, 0, 0.5f);
        return (model, adapters);
    }

    private static float[] Logits(TransformerModel model, bool withAdapters = true, bool grad = false)
    {
        using var scope = new TensorScope();
        if (grad) return model.Forward(Ids, 1, Ids.Length, withAdapters: withAdapters).ToArray();
        using var _ = Autograd.NoGrad();
        return model.Forward(Ids, 1, Ids.Length, withAdapters: withAdapters).ToArray();
    }

    [Theory]
    [InlineData(Architecture.Llama, false)]
    [InlineData(Architecture.Llama, true)]
    [InlineData(Architecture.Gpt2, false)]
    [InlineData(Architecture.Gpt2, true)]
    public void Without_adapters_equals_the_base_bitwise_and_leaves_them_attached(Architecture arch, bool grad)
    {
        var (model, adapters) = Adapted(arch);
        using var _m = model; using var _a = adapters;
        var bare = Logits(model, grad: grad);
        model.Adapters = adapters;
        if (!model.Config.TieWordEmbeddings) Assert.Contains("lm_head", adapters.Modules.Keys);
        var adapted = Logits(model, grad: grad);
        Assert.False(bare.AsSpan().SequenceEqual(adapted), "the adapter must change the output for this test to mean anything");

        Assert.True(bare.AsSpan().SequenceEqual(Logits(model, withAdapters: false, grad: grad)), "withAdapters: false is not the base model");
        Assert.Same(adapters, model.Adapters);
        Assert.True(adapted.AsSpan().SequenceEqual(Logits(model, grad: grad)), "a base pass changed the next adapted pass");
    }

    [Fact]
    public void Hidden_and_lm_head_take_the_same_option()
    {
        var (model, adapters) = Adapted(Architecture.Llama); // untied: lm_head has an adapter
        using var _m = model; using var _a = adapters;
        Assert.Contains("lm_head", adapters.Modules.Keys);
        var bare = Logits(model);
        model.Adapters = adapters;
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var logits = model.LmHead(model.Hidden(Ids, 1, Ids.Length, withAdapters: false), withAdapters: false).ToArray();
        Assert.True(bare.AsSpan().SequenceEqual(logits));
    }

    [Fact]
    public void Generation_leaves_training_adapters_alone_and_applies_no_dropout()
    {
        // The generator used to switch the adapters to evaluation mode and back around decoding; under NoGrad an adapter
        // applies no dropout anyway, so decoding now reads the model without writing to it.
        var (model, adapters) = Adapted(Architecture.Llama, dropout: 0.5f);
        using var _m = model; using var _a = adapters;
        model.Adapters = adapters;
        var options = new GenerationOptions { MaxNewTokens = 6, Temperature = 0f };
        var generator = new Generator(model);
        adapters.Training = false;
        var evaluation = generator.Generate([Ids], options)[0];
        adapters.Training = true;
        var training = generator.Generate([Ids], options)[0];
        Assert.True(adapters.Training);
        Assert.Same(adapters, model.Adapters);
        Assert.Equal(evaluation.Tokens, training.Tokens);
        Assert.Equal(evaluation.LogProbs, training.LogProbs);
    }
}
