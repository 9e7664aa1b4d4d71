using System.Text.Json;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Transformers;
using AlignSharp.Tensors;

namespace AlignSharp.Models.Tests.Transformers;

/// <summary>
/// Logits and greedy continuations against the PyTorch reference (tools/fixtures/gen_model_fixtures.py), on random
/// tiny Llama (GQA; tied + biases + Llama-3 rope scaling in BF16), Qwen2 and GPT-2 (F16, Conv1D) checkpoints.
/// </summary>
public class ModelParityTests
{
    private static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "models", name);

    public static TheoryData<string> Cases => new() { "llama_gqa", "llama_tied_bias_rope_scaling", "qwen2", "gpt2" };

    private sealed record Expected(int[] Ids, int Batch, int Length, float[] Mask, int[] Positions, float[] Logits, int[] Prompt, int[] Continuation);

    private static Expected Read(string name)
    {
        var e = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder(name), "expected.json"))).RootElement;
        int[] Ints(string key) => e.GetProperty(key).EnumerateArray().Select(x => x.GetInt32()).ToArray();
        return new Expected(Ints("ids"), e.GetProperty("batch").GetInt32(), e.GetProperty("length").GetInt32(),
            Ints("attention_mask").Select(x => (float)x).ToArray(), Ints("positions"),
            e.GetProperty("logits").EnumerateArray().Select(x => x.GetSingle()).ToArray(), Ints("greedy_prompt"), Ints("greedy_continuation"));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Logits_match_pytorch(string name)
    {
        var x = Read(name);
        using var model = HuggingFaceFolder.Load(Folder(name));
        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        var logits = model.Forward(x.Ids, x.Batch, x.Length, Tensor.FromArray(x.Mask, x.Batch, x.Length), x.Positions).ToArray();
        Assert.Equal(x.Logits.Length, logits.Length);
        int v = model.Config.VocabSize;
        double worst = 0;
        for (int row = 0; row < x.Batch * x.Length; row++)
        {
            if (x.Mask[row] == 0) continue; // padded positions are undefined in both
            for (int i = 0; i < v; i++) worst = Math.Max(worst, Math.Abs(logits[row * v + i] - x.Logits[row * v + i]) / Math.Max(1.0, Math.Abs(x.Logits[row * v + i])));
        }
        Assert.True(worst < 1e-4, $"{name}: largest relative logit error {worst:G3}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void Greedy_continuation_matches_pytorch(string name)
    {
        var x = Read(name);
        using var model = HuggingFaceFolder.Load(Folder(name));
        var result = new Generator(model).Generate([x.Prompt], new GenerationOptions { MaxNewTokens = x.Continuation.Length, Temperature = 0, StopTokenIds = [] })[0];
        Assert.Equal(x.Continuation, result.Tokens);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Kv_cached_decoding_gives_the_full_forward_logits(string name)
    {
        using var model = HuggingFaceFolder.Load(Folder(name));
        var rng = new Rng(5);
        int batch = 2, length = 11, v = model.Config.VocabSize;
        var ids = Enumerable.Range(0, batch * length).Select(_ => rng.NextInt(v)).ToArray();
        using var _ = Autograd.NoGrad();
        float[] full;
        using (new TensorScope()) full = model.Forward(ids, batch, length).ToArray();

        using var cache = new KvCache(model.Config, batch, length + 3);
        var cached = new float[full.Length];
        int done = 0;
        foreach (int chunk in new[] { 4, 1, 3, 1, 1, 1 })
        {
            var step = new int[batch * chunk];
            for (int b = 0; b < batch; b++) Array.Copy(ids, b * length + done, step, b * chunk, chunk);
            using (new TensorScope())
            {
                var logits = model.Forward(step, batch, chunk, cache: cache).ToArray();
                for (int b = 0; b < batch; b++) Array.Copy(logits, b * chunk * v, cached, (b * length + done) * v, chunk * v);
            }
            done += chunk;
        }
        Assert.Equal(length, done);
        for (int i = 0; i < full.Length; i++) Assert.True(Math.Abs(full[i] - cached[i]) < 1e-4f, $"{name}: logit {i}: full {full[i]} vs cached {cached[i]}");
    }
}
