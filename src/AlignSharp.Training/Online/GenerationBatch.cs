using AlignSharp.Feedback;
using AlignSharp.Feedback.Store;

namespace AlignSharp.Training.Online;

/// <summary>
/// One generation batch of an online run, as a method prepared it for training: the rollouts (prompt-major groups of
/// num_generations), the method's per-row values (rewards, advantages, ...) and per-row per-token values (reference
/// log-probs, old values, ...), and the metrics of its generation. It is never changed once prepared, so a checkpoint
/// can keep it by reference and write it later; <see cref="Save"/>/<see cref="Load"/> round-trip every float bit for bit.
/// </summary>
/// <param name="Rollouts">The sampled completions, exactly as the sampler produced them.</param>
/// <param name="Rows">Training rows: one per rollout for GRPO/RLOO/PPO, one per prompt (a pair) for online DPO.</param>
public sealed class GenerationBatch(Rollout[] rollouts, int rows)
{
    public Rollout[] Rollouts { get; } = rollouts;

    /// <summary>Training rows the micro-batches index (0 ≤ row &lt; Rows).</summary>
    public int Rows { get; } = rows;

    /// <summary>Per-row values by name (e.g. "advantages": [Rows]).</summary>
    public Dictionary<string, float[]> RowValues { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-row per-token values by name (e.g. "ref_logps": Rows arrays of each row's completion length).</summary>
    public Dictionary<string, float[][]> TokenValues { get; } = new(StringComparer.Ordinal);

    /// <summary>Metrics of the generation (reward means, completion lengths, timings), logged with every step trained on it.</summary>
    public Dictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);

    private const int Version = 1;

    /// <summary>Writes the batch (binary, floats bit-exact).</summary>
    public void Save(BinaryWriter w)
    {
        w.Write(Version);
        w.Write(Rows);
        w.Write(Rollouts.Length);
        foreach (var r in Rollouts)
        {
            w.Write(PromptJson.Serialize(r.Prompt));
            WriteInts(w, r.PromptIds); WriteInts(w, r.CompletionIds); WriteFloats(w, r.LogProbs);
            w.Write(r.Text); w.Write((int)r.Finish);
            w.Write(r.Seed.HasValue); w.Write(r.Seed ?? 0);
            w.Write(r.Model is not null); w.Write(r.Model ?? "");
        }
        w.Write(RowValues.Count);
        foreach (var (k, v) in RowValues.OrderBy(x => x.Key, StringComparer.Ordinal)) { w.Write(k); WriteFloats(w, v); }
        w.Write(TokenValues.Count);
        foreach (var (k, v) in TokenValues.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            w.Write(k); w.Write(v.Length);
            foreach (var row in v) WriteFloats(w, row);
        }
        w.Write(Metrics.Count);
        foreach (var (k, v) in Metrics.OrderBy(x => x.Key, StringComparer.Ordinal)) { w.Write(k); w.Write(v); }
    }

    /// <summary>Reads a batch written by <see cref="Save"/>; <paramref name="origin"/> names the file in errors.</summary>
    public static GenerationBatch Load(BinaryReader r, string origin)
    {
        try
        {
            int version = r.ReadInt32();
            if (version != Version) throw new TrainingException($"{origin}: generation batch format {version}, expected {Version}; resume with the version that wrote it or start over (overwrite_output_dir: true)");
            int rows = r.ReadInt32();
            var rollouts = new Rollout[r.ReadInt32()];
            for (int i = 0; i < rollouts.Length; i++)
            {
                var prompt = PromptJson.Parse(r.ReadString(), origin);
                int[] promptIds = ReadInts(r), completionIds = ReadInts(r);
                float[] logProbs = ReadFloats(r);
                string text = r.ReadString();
                var finish = (FinishReason)r.ReadInt32();
                bool hasSeed = r.ReadBoolean(); long seed = r.ReadInt64();
                bool hasModel = r.ReadBoolean(); string model = r.ReadString();
                rollouts[i] = new Rollout(prompt, promptIds, completionIds, logProbs, text, finish, hasSeed ? seed : null, hasModel ? model : null);
            }
            var batch = new GenerationBatch(rollouts, rows);
            for (int n = r.ReadInt32(), i = 0; i < n; i++) batch.RowValues[r.ReadString()] = ReadFloats(r);
            for (int n = r.ReadInt32(), i = 0; i < n; i++)
            {
                string key = r.ReadString();
                var values = new float[r.ReadInt32()][];
                for (int j = 0; j < values.Length; j++) values[j] = ReadFloats(r);
                batch.TokenValues[key] = values;
            }
            for (int n = r.ReadInt32(), i = 0; i < n; i++) batch.Metrics[r.ReadString()] = r.ReadDouble();
            return batch;
        }
        catch (EndOfStreamException) { throw new TrainingException($"{origin}: the generation batch is cut short; delete this checkpoint folder to resume from the one before"); }
    }

    private static void WriteInts(BinaryWriter w, int[] v) { w.Write(v.Length); foreach (int x in v) w.Write(x); }
    private static void WriteFloats(BinaryWriter w, float[] v) { w.Write(v.Length); foreach (float x in v) w.Write(x); }
    private static int[] ReadInts(BinaryReader r) { var v = new int[r.ReadInt32()]; for (int i = 0; i < v.Length; i++) v[i] = r.ReadInt32(); return v; }
    private static float[] ReadFloats(BinaryReader r) { var v = new float[r.ReadInt32()]; for (int i = 0; i < v.Length; i++) v[i] = r.ReadSingle(); return v; }
}
