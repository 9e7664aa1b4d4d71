using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Alignment.Pipelines;
using AlignSharp.Eval;
using AlignSharp.Feedback;
using AlignSharp.Models.Transformers;
using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Methods;
using AlignSharp.Training.Online;

namespace AlignSharp.Alignment.Tests;

/// <summary>The README's "loop as a library" example, as written there (only the folders and sizes differ).</summary>
public class ReadmeExampleTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-readme-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    [Fact]
    public void One_round_of_automated_labelling_and_dpo_from_library_types()
    {
        // A tiny SFT model to start from (the README uses the quick demo's).
        string constitution = Path.Combine(Repo(), "recipes", "constitution.yaml");
        using (var loop = new IterativeAlignment(new DemoOptions
        {
            Name = "sft", RunsDir = _dir, Constitution = constitution, SftConversations = 240, TrainPrompts = 1, EvalPrompts = 4, SftEpochs = 1,
            HiddenSize = 32, Layers = 1, Heads = 2, KvHeads = 1, IntermediateSize = 64, TokenizerVocabSize = 400, Rounds = 0,
        }, TextWriter.Null, resume: false)) loop.Run();
        string sft = Path.Combine(_dir, "sft", "sft");
        var output = new StringWriter();

        var env = DemoWorldEnvironment.Generate(new WorldOptions(Seed: 1, TrainPrompts: 40, EvalPrompts: 40));
        var signal = new ConstitutionSource(Constitution.Load(constitution, env.Checks));
        using var policy = HuggingFaceFolder.Load(sft);
        var encoder = ExampleTokenizer.FromFolder(sft);
        var sampler = new PolicySampler(policy, encoder);

        var rollouts = sampler.Sample(env.TrainPrompts, k: 4, temperature: 1f, seed: 1, maxNewTokens: 24); // exact tokens + log-probs
        var pairs = rollouts.Select(r => PreferencePairs.Build(r[0].Prompt, r.Select(x => x.Text).ToArray(), signal)).OfType<PreferencePair>();
        var examples = EncodedExamples.ForPreference(pairs.Select(p => encoder.Preference(TrlRows.Preference(p))).ToList(), encoder.PadId);
        var args = new TrainingArguments { OutputDir = Path.Combine(_dir, "lib-dpo"), LearningRate = 2e-4f, NumTrainEpochs = 1, OverwriteOutputDir = true };
        using (var dpo = TrainingMethods.Dpo.CreateTrainer(args, new FullCausalLm(policy), examples)) { dpo.OwnsModel = false; dpo.Train(); }

        var answers = sampler.Sample(env.EvalPrompts, k: 1, temperature: 0f, seed: 1, maxNewTokens: 24).Select(r => (r[0].Prompt, r[0].Text)).ToList();
        output.WriteLine(AlignmentMetrics.Evaluate(answers, env.Evaluation));   // harmful compliance, over-refusal, accuracy...

        Assert.True(examples.Count > 0);
        Assert.True(File.Exists(Path.Combine(_dir, "lib-dpo", "model.safetensors")));
        Assert.Contains("HarmfulCompliance", output.ToString());
        Assert.All(rollouts.SelectMany(r => r), r => Assert.Equal(r.CompletionIds.Length, r.LogProbs.Length));
    }
}
