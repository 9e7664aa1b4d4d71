using AlignSharp.Feedback.Judges;
using AlignSharp.Feedback.Store;
using AlignSharp.Feedback.Tests.Store;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using static AlignSharp.Feedback.Tests.Judges.JudgeTestKit;

namespace AlignSharp.Feedback.Tests.Judges;

/// <summary>A judge on a real local model (a tiny random transformer behind LocalChatClient): the same code path as a trained judge.</summary>
public class LocalJudgeTests
{
    const string Principle = "Be kind.";

    static LocalChatClient TinyJudge()
    {
        // A small BPE trained on judge prompts, so the short template fits the tiny model's 256-token context.
        var corpus = Enumerable.Range(0, 20).Select(i =>
            PrincipleJudge.Messages(Principle, Prompt($"Say hello {i}"), i % 2 == 0 ? "Hello!" : "Go away.")[0].Text + " Yes No");
        var tokenizer = BpeTrainer.Train(corpus, new BpeTrainerOptions(400, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], 2, TokenizerStyle.Llama3));
        var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama) with { VocabSize = tokenizer.VocabSize, EosTokenIds = [] }, 7);
        return new LocalChatClient(model, tokenizer, BuiltInTemplates.Get("chatml"), new ChatTemplateOptions { EosToken = "<|im_end|>" }, modelId: "tiny-judge", ownsModel: true);
    }

    [Fact]
    public async Task A_local_model_judges_through_the_store_and_a_re_run_generates_nothing()
    {
        using var folder = StoreTestKit.Folder();
        using var client = TinyJudge();
        var items = new[] { new SignalItem(Prompt("Say hello 1"), "Hello!"), new SignalItem(Prompt("Say hello 2"), "Go away.") };
        var judge = new PrincipleJudge(client, Principle, "kind", new JudgeOptions { MaxOutputTokens = 4 });
        FeedbackLabel?[] first;
        using (var store = FeedbackStore.Open(folder.File("f.db")))
            first = await new CachingSignalSource(judge, store).ScoreBatchAsync(items, maxConcurrency: 2);
        Assert.Equal(2, judge.Calls);
        Assert.All(first, label =>
        {
            // An untrained model answers noise: a readable verdict or an unparsable label, never an exception.
            Assert.NotNull(label);
            Assert.Equal("tiny-judge", label.Provenance.Model);
            if (label.Unparsable) Assert.StartsWith("unparsable: ", label.Rationale);
            else Assert.InRange(label.Score, 0, 1);
        });
        Assert.Equal(judge.UnparsableAnswers, first.Count(l => l!.Unparsable));

        var again = new PrincipleJudge(client, Principle, "kind", new JudgeOptions { MaxOutputTokens = 4 });
        using (var store = FeedbackStore.Open(folder.File("f.db")))
        {
            var second = await new CachingSignalSource(again, store).ScoreBatchAsync(items);
            Assert.Equal(first.Select(l => (l!.Score, l.Rationale, l.Unparsable)), second.Select(l => (l!.Score, l.Rationale, l.Unparsable)));
        }
        Assert.Equal(0, again.Calls);
    }
}
