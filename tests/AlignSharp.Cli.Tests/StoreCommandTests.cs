using AlignSharp.Cli;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Store;
using AlignSharp.Training.Data;
using Microsoft.Extensions.AI;

namespace AlignSharp.Cli.Tests;

/// <summary>`alignsharp store stats|export|import` on a real store built through the library.</summary>
public class StoreCommandTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("alignsharp-store-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    string F(string name) => Path.Combine(_folder, name);

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A fixed score per response text, so every export is known exactly.</summary>
    sealed class TableSource(string name, Dictionary<string, double?> scores) : ISignalSource
    {
        public string Name => name;
        public string Fingerprint => SignalFingerprint.Of(name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) => scores[response] is { } s
            ? new FeedbackLabel(s, $"{name} says {s}", new Provenance(name, SignalKind.Judge, Model: "m", Seed: 3,
                Inputs: [new Provenance("inner", SignalKind.Verifier, ElapsedMs: 0.5)], CreatedAt: new DateTimeOffset(2025, 5, 6, 7, 8, 9, TimeSpan.Zero)),
                new Dictionary<string, double> { ["inner"] = s })
            : null;
    }

    static readonly PromptRecord Arithmetic = new("q1", "2+2?", "arithmetic", new Dictionary<string, string> { ["answer"] = "4" });
    static readonly PromptRecord Chat = new("q2", [new ChatMessage(ChatRole.System, "be kind"), new ChatMessage(ChatRole.User, "Grüße?")], "chat", new Dictionary<string, string>());
    static readonly PromptRecord Tied = new("q3", "tie?", "test", new Dictionary<string, string>());

    /// <summary>Two sources over three prompts: q1 has a clear best and worst, q2 one response n/a, q3 ties.</summary>
    string BuildStore()
    {
        string db = F("feedback.db");
        using var store = FeedbackStore.Open(db);
        var items = new[]
        {
            new SignalItem(Arithmetic, "4"), new SignalItem(Arithmetic, "5"), new SignalItem(Arithmetic, "four"),
            new SignalItem(Chat, "Hallo 😀"), new SignalItem(Chat, "n/a"), new SignalItem(Chat, "Tschüss"),
            new SignalItem(Tied, "a"), new SignalItem(Tied, "b"),
        };
        store.AddGenerations(items, model: "policy", seed: 1);
        var a = new TableSource("exact", new() { ["4"] = 1, ["5"] = 0, ["four"] = 0.75, ["Hallo 😀"] = 0.25, ["n/a"] = null, ["Tschüss"] = 0.5, ["a"] = 0.5, ["b"] = 0.5 });
        var b = new TableSource("judge", new() { ["4"] = 0.9, ["5"] = 0.2, ["four"] = 0.1, ["Hallo 😀"] = 0.8, ["n/a"] = 0.3, ["Tschüss"] = 0.6, ["a"] = 0.1, ["b"] = 0.7 });
        foreach (var source in new[] { a, b }) new CachingSignalSource(source, store).ScoreBatchAsync(items).AsTask().GetAwaiter().GetResult();
        return db;
    }

    [Fact]
    public void Stats_lists_sources_and_their_agreement()
    {
        string db = BuildStore();
        var (code, output, err) = Run("store", "stats", "--db", db);
        Assert.True(code == 0, err);
        Assert.Contains($"{db}: 8 generations, 16 labels from 2 sources", output);
        Assert.Matches(@"exact\s+exact@v1\s+8\s+1\s+0\.5\n", output);  // mean of 1, 0, .75, .25, .5, .5, .5 = 3.5 / 7
        Assert.Matches(@"judge\s+judge@v1\s+8\s+0\s+0\.463\n", output);
        // 7 shared items (n/a excluded): exact good on 4, four, Tschüss, a, b; judge good on 4, Hallo, Tschüss, b.
        // both good 3, only exact 2 (four, a), only judge 1 (Hallo), both bad 1 (5): pₒ = 4/7.
        Assert.Matches(@"exact\s+judge\s+7\s+57\.1%\s+3\s+1\s+0\.087\n", output);  // pₑ = 5/7·4/7 + 2/7·3/7 = 26/49, κ = 2/23
    }

    [Fact]
    public void Export_trl_preference_picks_best_and_worst_and_drops_ties()
    {
        string db = BuildStore();
        string output = F("pairs.jsonl");
        var (code, stdout, err) = Run("store", "export", "--db", db, "--format", "trl-preference", "--out", output, "--source", "exact", "--margin");
        Assert.True(code == 0, err);
        Assert.Contains("2 preference pairs from 3 prompts (1 dropped", stdout);
        Assert.Equal(
            """{"prompt":[{"role":"user","content":"2+2?"}],"chosen":[{"role":"assistant","content":"4"}],"rejected":[{"role":"assistant","content":"5"}],"margin":1}""" + "\n"
            + """{"prompt":[{"role":"system","content":"be kind"},{"role":"user","content":"Grüße?"}],"chosen":[{"role":"assistant","content":"Tschüss"}],"rejected":[{"role":"assistant","content":"Hallo 😀"}],"margin":0.25}""" + "\n",
            File.ReadAllText(output));
        Assert.Equal(2, JsonlDataset.ReadAll(output, DatasetKind.Preference).Count);
    }

    [Fact]
    public void Export_trl_unpaired_and_sft_use_the_threshold()
    {
        string db = BuildStore();
        string unpaired = F("kto.jsonl"), sft = F("sft.jsonl");
        Assert.Equal(0, Run("store", "export", "--db", db, "--format", "trl-unpaired", "--out", unpaired, "--source", "judge@v1", "--threshold", "0.6").Code);
        var rows = JsonlDataset.ReadAll(unpaired, DatasetKind.UnpairedPreference).Cast<UnpairedPreferenceRow>().ToList();
        Assert.Equal(8, rows.Count);
        Assert.Equal([true, false, false, true, false, true, false, true], rows.Select(r => r.Label));
        var (code, stdout, _) = Run("store", "export", "--db", db, "--format", "trl-sft", "--out", sft, "--source", "exact", "--threshold", "0.75");
        Assert.Equal(0, code);
        Assert.Contains("1 prompt-completion rows from 3 prompts (2 with no response scoring ≥ 0.75)", stdout);
        Assert.Equal("""{"prompt":[{"role":"user","content":"2+2?"}],"completion":[{"role":"assistant","content":"4"}]}""" + "\n", File.ReadAllText(sft));
    }

    [Fact]
    public void Labels_export_import_export_round_trips_byte_for_byte()
    {
        string db = BuildStore();
        string first = F("labels.jsonl"), second = F("labels-again.jsonl"), copy = F("copy.db");
        Assert.Equal(0, Run("store", "export", "--db", db, "--format", "labels", "--out", first).Code);
        var (code, stdout, err) = Run("store", "import", "--db", copy, "--in", first);
        Assert.True(code == 0, err);
        Assert.Contains("16 labels added, 0 already there", stdout);
        Assert.Equal(0, Run("store", "export", "--db", copy, "--format", "labels", "--out", second).Code);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.Equal(16, File.ReadAllLines(first).Length);
        Assert.Contains("\"score\":null", File.ReadAllText(first));  // the n/a label travels too
        Assert.Contains("\"inputs\":[{\"source\":\"inner\",\"kind\":\"verifier\",\"elapsed_ms\":0.5}]", File.ReadAllText(first));
        Assert.Contains("0 labels added, 16 already there", Run("store", "import", "--db", copy, "--in", first).Out);

        // The imported labels answer for their sources: nothing is scored again.
        using var store = FeedbackStore.Open(copy);
        var counting = new CountingTable();
        var cached = new CachingSignalSource(counting, store);
        cached.Score(Arithmetic, "4");
        Assert.Equal((0L, 1L), (cached.InnerCalls, cached.CacheHits));
    }

    sealed class CountingTable : ISignalSource
    {
        public string Name => "exact";
        public string Fingerprint => SignalFingerprint.Of(Name, 1);
        public FeedbackLabel? Score(PromptRecord prompt, string response) => throw new InvalidOperationException("should come from the store");
    }

    [Fact]
    public void Bad_uses_and_bad_files_are_one_line_each()
    {
        string db = BuildStore();
        var (code, _, err) = Run("store", "export", "--db", db, "--format", "trl-preference", "--out", F("x.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("labels from 2 sources; choose one with --source", err);
        (code, _, err) = Run("store", "export", "--db", db, "--format", "trl-pairs", "--out", F("x.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("--format must be one of trl-preference | trl-unpaired | trl-sft | labels", err);
        (code, _, err) = Run("store", "stats", "--db", F("missing.db"));
        Assert.Equal(2, code);
        Assert.Contains("missing.db: file not found", err);
        Assert.False(File.Exists(F("missing.db")));
        File.WriteAllText(F("notes.txt"), "hello\n");
        (code, _, err) = Run("store", "stats", "--db", F("notes.txt"));
        Assert.Equal(1, code);
        Assert.Contains("not an SQLite database", err);
        File.WriteAllText(F("bad.jsonl"), "{\"fingerprint\": \"x@v1\"}\n");
        (code, _, err) = Run("store", "import", "--db", db, "--in", F("bad.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:1: \"source\" is missing", err);
        Assert.Single(err.Trim().Split('\n'));
        (code, _, _) = Run("store", "export", "--db", db, "--format", "labels", "--out", F("x.jsonl"), "--margin");
        Assert.Equal(2, code);
        (code, _, err) = Run("store", "import", "--db", F("new.db"), "--in", F("absent.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("absent.jsonl: file not found", err);
        Assert.False(File.Exists(F("new.db")));
    }

    [Fact]
    public void Help_answers_for_every_store_subcommand()
    {
        foreach (var sub in new[] { "stats", "export", "import" })
        {
            var (code, output, _) = Run("store", sub, "--help");
            Assert.Equal(0, code);
            Assert.StartsWith($"usage: alignsharp store {sub}", output);
        }
        Assert.Contains("store export", Run("store", "--help").Out);
    }
}
