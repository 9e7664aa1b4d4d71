using AlignSharp.Feedback.Providers;
using AlignSharp.Feedback.Tests.Store;
using AlignSharp.Models.Lora;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Models.Transformers;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Tests.Providers;

/// <summary>A local-folder block becomes a <c>LocalChatClient</c> over the folder, with its adapter folded in when it names one.</summary>
public class LocalProviderTests
{
    [Fact]
    public async Task A_local_folder_with_an_adapter_runs_the_merged_model()
    {
        using var folder = StoreTestKit.Folder();
        string baseDir = folder.File("base"), adapterDir = folder.File("adapter");
        var tokenizer = BpeTrainer.Train(["the judge reads the answer and gives a score", "score: 4", "hello world"],
            new BpeTrainerOptions(300, SpecialTokens: ["<|im_start|>", "<|im_end|>"], MinFrequency: 1));
        using (var model = TransformerModel.Create(ModelPresets.Get("tiny", Architecture.Llama), seed: 1))
        {
            HuggingFaceFolder.Save(model, baseDir);
            tokenizer.Save(baseDir);
            using var adapters = LoraAdapters.Create(model, new LoraConfig(Rank: 2), seed: 2);
            foreach (var (_, b) in adapters.Modules.Values) b.Span.Fill(0.05f); // B = 0 would merge to the base itself
            PeftFormat.Save(adapters, adapterDir, baseModel: baseDir);
        }

        var block = new Dictionary<string, object?> { ["model"] = baseDir, ["adapter"] = adapterDir };
        using var plain = ChatProviders.Create(ChatRoles.Parse(ProviderRole.Policy, new Dictionary<string, object?> { ["model"] = baseDir }, "recipe.yaml"));
        using var adapted = ChatProviders.Create(ChatRoles.Parse(ProviderRole.Policy, block, "recipe.yaml"));
        using var merged = AdapterMerge.LoadMerged(baseDir, adapterDir);
        using var original = HuggingFaceFolder.Load(baseDir);

        var adaptedWeights = adapted.GetService<TransformerModel>()!.Parameters;
        var plainWeights = plain.GetService<TransformerModel>()!.Parameters;
        Assert.All(merged.Parameters, p => Assert.Equal(p.Value.ToArray(), adaptedWeights[p.Key].ToArray()));
        Assert.All(original.Parameters, p => Assert.Equal(p.Value.ToArray(), plainWeights[p.Key].ToArray()));
        Assert.Contains(original.Parameters, p => !p.Value.ToArray().SequenceEqual(adaptedWeights[p.Key].ToArray()));

        var reply = await adapted.GetResponseAsync([new ChatMessage(ChatRole.User, "hello")], new ChatOptions { MaxOutputTokens = 3 });
        Assert.NotNull(reply.FinishReason);
    }

    [Fact]
    public void A_missing_adapter_folder_is_named()
    {
        using var folder = StoreTestKit.Folder();
        Directory.CreateDirectory(folder.File("base"));
        var block = new Dictionary<string, object?> { ["model"] = folder.File("base"), ["adapter"] = folder.File("nope") };
        var error = Assert.Throws<FeedbackException>(() => ChatProviders.Create(ChatRoles.Parse(ProviderRole.Teacher, block, "recipe.yaml")));
        Assert.Equal($"recipe.yaml: teacher.adapter: folder {folder.File("nope")} not found; give a PEFT LoRA adapter folder or remove the key", error.Message);
    }
}
