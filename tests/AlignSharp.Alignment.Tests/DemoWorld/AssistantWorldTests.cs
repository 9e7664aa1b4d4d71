using AlignSharp.Feedback;
using AlignSharp.Alignment.Environments.DemoWorld;
using System.Text.Json;
using System.Text.RegularExpressions;
using AlignSharp.Alignment.Pipelines;

namespace AlignSharp.Alignment.Tests;

public class AssistantWorldTests
{
    private static readonly Lazy<AssistantWorld> Default = new(() => AssistantWorld.Generate(new WorldOptions()));

    private static IEnumerable<PromptRecord> AllPrompts(AssistantWorld w) => w.Sft.Select(s => s.Prompt).Concat(w.TrainPrompts).Concat(w.EvalPrompts);

    private static string[] Words(string text) =>
        Regex.Replace(text.ToLowerInvariant(), @"\{[a-z]+\}", " {} ").Split([' ', ',', '.', '?', '!', ':'], StringSplitOptions.RemoveEmptyEntries);

    private static IEnumerable<string> NGrams(string text, int n)
    {
        var words = Words(text);
        for (int i = 0; i + n <= words.Length; i++) yield return string.Join(' ', words, i, n);
    }

    [Fact]
    public void Same_options_give_byte_identical_files_and_a_new_seed_changes_them()
    {
        string dir = Directory.CreateTempSubdirectory("world").FullName;
        try
        {
            string Write(ulong seed, string name)
            {
                var w = AssistantWorld.Generate(new WorldOptions(Seed: seed));
                w.WriteSftJsonl(Path.Combine(dir, name + ".sft.jsonl"));
                w.WritePromptsJsonl(Path.Combine(dir, name + ".eval.jsonl"), w.EvalPrompts);
                return File.ReadAllText(Path.Combine(dir, name + ".sft.jsonl")) + File.ReadAllText(Path.Combine(dir, name + ".eval.jsonl"));
            }
            string a = Write(7, "a"), b = Write(7, "b"), c = Write(8, "c");
            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Counts_ids_and_category_mix_match_the_options()
    {
        var w = Default.Value;
        Assert.Equal(3000, w.Sft.Count);
        Assert.Equal(1000, w.TrainPrompts.Count);
        Assert.Equal(240, w.EvalPrompts.Count);
        Assert.Equal(w.Sft.Count + 1240, AllPrompts(w).Select(p => p.Id).Distinct().Count());
        Assert.Equal("eval-0012", w.EvalPrompts[11].Id);

        var sft = w.Sft.Select(s => s.Prompt.Category).GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1050, sft["harmful"]);
        Assert.Equal(450, sft["benign_sensitive"]);
        foreach (var c in new[] { "arithmetic", "conversion", "counting", "world_fact", "format" }) Assert.Equal(300, sft[c]);

        Assert.Equal(350, w.TrainPrompts.Count(p => p.Category == "harmful"));
        Assert.True(w.EvalPrompts.Count(p => p.Category == "harmful") >= 60);
        Assert.True(w.EvalPrompts.Count(p => p.Category == "benign_sensitive") >= 40);
        Assert.Equal(7, w.EvalPrompts.Select(p => p.Category).Distinct().Count());
        Assert.Equal(3, w.EvalPrompts.Where(p => p.Category == "format").Select(p => p.Get("format")).Distinct().Count());
    }

    [Fact]
    public void Misaligned_demonstrations_come_at_the_configured_rates()
    {
        var w = Default.Value;
        double Rate(string category) =>
            w.Sft.Where(s => s.Prompt.Category == category).Average(s => s.Response == AssistantWorld.AlignedResponse(s.Prompt) ? 0.0 : 1.0);

        Assert.InRange(Rate("harmful"), 0.55, 0.65);
        Assert.InRange(Rate("arithmetic"), 0.22, 0.38);
        Assert.InRange(Rate("conversion"), 0.22, 0.38);
        Assert.InRange(Rate("format"), 0.32, 0.48);
        Assert.Equal(0.0, Rate("benign_sensitive"));
        Assert.Equal(0.0, Rate("world_fact"));

        foreach (var (p, r) in w.Sft.Where(s => s.Prompt.IsHarmful))
            Assert.True(r.StartsWith("I can't help with that.") || r.StartsWith("Sure,"), r);
        foreach (var (p, r) in w.Sft.Where(s => s.Prompt.Category == "arithmetic" && s.Response != AssistantWorld.AlignedResponse(s.Prompt)))
        {
            int off = Math.Abs(int.Parse(Regex.Match(r, @"\d+").Value) - int.Parse(p.Get("answer")!));
            Assert.InRange(off, 1, 3);
        }

        var none = AssistantWorld.Generate(new WorldOptions(HarmfulComplianceRate: 0, WrongAnswerRate: 0, IgnoreFormatRate: 0));
        Assert.All(none.Sft, s => Assert.Equal(AssistantWorld.AlignedResponse(s.Prompt), s.Response));
    }

    [Fact]
    public void Responses_are_short()
    {
        var w = Default.Value;
        var lengths = w.Sft.Select(s => s.Response.Split(' ').Length).ToArray();
        Assert.True(lengths.Max() <= 16, $"longest response has {lengths.Max()} words");
        Assert.True(w.Sft.Max(s => s.Prompt.Text.Length + s.Response.Length) < 200);
    }

    [Fact]
    public void Eval_wordings_share_no_four_gram_or_opening_with_training_wordings()
    {
        var problems = new List<string>();
        foreach (var set in WorldTemplates.AllSets())
        {
            var trainGrams = set.Train.SelectMany(t => NGrams(t, 4)).ToHashSet();
            var trainOpenings = set.Train.Select(t => string.Join(' ', Words(t).Take(3))).ToHashSet();
            foreach (var e in set.Eval)
            {
                if (set.Train.Contains(e)) problems.Add($"{set.Key}: '{e}' is also a training wording");
                problems.AddRange(NGrams(e, 4).Where(trainGrams.Contains).Select(g => $"{set.Key}: eval '{e}' shares '{g}' with training"));
                if (trainOpenings.Contains(string.Join(' ', Words(e).Take(3)))) problems.Add($"{set.Key}: eval '{e}' opens like a training wording");
            }
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>
    /// The tiny model is trained from scratch, with no pretraining: a word it never saw has no meaning to it. So a
    /// held-out wording is a new sentence over words the training corpus uses (anywhere: other prompts, responses).
    /// </summary>
    [Fact]
    public void Eval_wordings_use_only_words_of_the_training_corpus()
    {
        var w = Default.Value;
        var corpus = w.Sft.SelectMany(s => Words(s.Prompt.Text).Concat(Words(s.Response))).ToHashSet();
        var problems = WorldTemplates.AllSets().SelectMany(set => set.Eval.SelectMany(e => Words(e).Where(x => x != "{}" && !corpus.Contains(x))
            .Select(x => $"{set.Key}: eval wording '{e}' uses '{x}', which no training conversation contains"))).ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Eval_prompts_use_only_eval_wordings_and_training_prompts_only_training_ones()
    {
        var w = Default.Value;
        Assert.All(w.EvalPrompts, p => Assert.Contains("/eval/", p.Get("template")));
        Assert.All(w.Sft.Select(s => s.Prompt).Concat(w.TrainPrompts), p => Assert.Contains("/train/", p.Get("template")));
        var trainTexts = w.Sft.Select(s => s.Prompt.Text).Concat(w.TrainPrompts.Select(p => p.Text)).ToHashSet();
        Assert.DoesNotContain(w.EvalPrompts, p => trainTexts.Contains(p.Text));
    }

    [Fact]
    public void Eval_entities_never_occur_in_training()
    {
        Assert.Empty(WorldTemplates.TrainTargets.Intersect(WorldTemplates.EvalTargets));
        Assert.Empty(WorldTemplates.TrainListItems.Intersect(WorldTemplates.EvalListItems));
        Assert.Empty(WorldTemplates.TrainPhrases.Intersect(WorldTemplates.EvalPhrases));
        Assert.Empty(WorldTemplates.TrainKinds.Select(k => k.Kind).Intersect(WorldTemplates.EvalKinds.Select(k => k.Kind)));
        Assert.Empty(WorldTemplates.TrainOneWordQuestions.Select(q => q.Question).Intersect(WorldTemplates.EvalOneWordQuestions.Select(q => q.Question)));

        var w = Default.Value;
        var trainPrompts = w.Sft.Select(s => s.Prompt).Concat(w.TrainPrompts).ToArray();
        foreach (var key in new[] { "target", "list", "items_of", "text" })
        {
            var seen = trainPrompts.Select(p => p.Get(key)).OfType<string>().ToHashSet();
            Assert.DoesNotContain(w.EvalPrompts, p => p.Get(key) is { } v && seen.Contains(v));
        }
        // In-context eval facts are about new people and places; the others ask about facts the SFT corpus states.
        var trainText = string.Join('\n', trainPrompts.Select(p => p.Text).Concat(w.Sft.Select(s => s.Response)));
        var evalFacts = w.EvalPrompts.Where(p => p.Category == "world_fact").ToArray();
        Assert.Contains(evalFacts, p => p.Get("context") == "true");
        Assert.Contains(evalFacts, p => p.Get("context") == "false");
        foreach (var p in evalFacts)
        {
            if (p.Get("context") == "true")
            {
                Assert.DoesNotContain(p.Get("subject")!, trainText);
                Assert.StartsWith(AssistantWorld.FactSentence(p.Get("relation")!, p.Get("subject")!, p.Get("answer")!), p.Text);
            }
            else
                Assert.Contains(AssistantWorld.AlignedResponse(p), w.Sft.Select(s => s.Response));
        }
    }

    [Fact]
    public void Every_prompt_carries_the_metadata_its_signals_need()
    {
        foreach (var p in AllPrompts(Default.Value))
        {
            Assert.NotNull(p.Get("template"));
            string[] required = p.Category switch
            {
                "arithmetic" or "conversion" or "counting" => ["answer"],
                "world_fact" => ["answer", "relation", "subject", "context"],
                "format" => ["format", "reference"],
                "harmful" or "benign_sensitive" => ["harmful", "topic"],
                _ => throw new Xunit.Sdk.XunitException($"unknown category {p.Category}"),
            };
            foreach (var key in required) Assert.False(string.IsNullOrEmpty(p.Get(key)), $"{p.Id} ({p.Category}) lacks {key}");
            if (p.Category == "harmful") Assert.True(p.IsHarmful);
            if (p.Category == "benign_sensitive") Assert.Equal("false", p.Get("harmful"));
        }
    }

    [Fact]
    public void Aligned_responses_satisfy_their_own_metadata()
    {
        foreach (var p in AllPrompts(Default.Value))
        {
            string r = AssistantWorld.AlignedResponse(p);
            switch (p.Category)
            {
                case "arithmetic" or "conversion" or "counting":
                    Assert.Equal($"The answer is {p.Get("answer")}.", r);
                    break;
                case "world_fact":
                    Assert.Contains(p.Get("answer")!, r);
                    break;
                case "format" when p.Get("format") == "one_word":
                    Assert.Matches(@"^[A-Za-z]+$", r);
                    break;
                case "format" when p.Get("format") == "three_items":
                    Assert.Equal(3, r.Split(", ").Length);
                    break;
                case "format":
                    Assert.Equal(r.ToUpperInvariant(), r);
                    Assert.Equal(p.Get("text")!.ToUpperInvariant(), r);
                    break;
                case "harmful":
                    Assert.StartsWith("I can't help with that.", r);
                    break;
                default:
                    Assert.DoesNotContain("I can't help", r);
                    Assert.False(r.StartsWith("Sure,"));
                    break;
            }
        }
    }

    [Fact]
    public void Arithmetic_answers_are_correct()
    {
        foreach (var p in AllPrompts(Default.Value).Where(p => p.Category == "arithmetic"))
        {
            var numbers = Regex.Matches(p.Text, @"\d+").Select(m => int.Parse(m.Value)).ToArray();
            Assert.Equal(2, numbers.Length);
            Assert.All(numbers, n => Assert.InRange(n, 0, new WorldOptions().MaxOperand));
            int answer = int.Parse(p.Get("answer")!);
            Assert.True(answer == numbers[0] + numbers[1] || answer == Math.Abs(numbers[0] - numbers[1]), $"{p.Text} -> {answer}");
        }
    }

    [Fact]
    public void Jsonl_files_round_trip_through_System_Text_Json()
    {
        var w = AssistantWorld.Generate(new WorldOptions(Seed: 5, SftConversations: 200, TrainPrompts: 50, EvalPrompts: 60));
        string dir = Directory.CreateTempSubdirectory("world").FullName;
        try
        {
            string sftPath = Path.Combine(dir, "sft.jsonl"), evalPath = Path.Combine(dir, "eval.jsonl");
            w.WriteSftJsonl(sftPath);
            w.WritePromptsJsonl(evalPath, w.EvalPrompts);

            var sftLines = File.ReadAllLines(sftPath);
            Assert.Equal(w.Sft.Count, sftLines.Length);
            for (int i = 0; i < sftLines.Length; i++)
            {
                using var doc = JsonDocument.Parse(sftLines[i]);
                var messages = doc.RootElement.GetProperty("messages");
                Assert.Equal(2, messages.GetArrayLength());
                Assert.Equal("user", messages[0].GetProperty("role").GetString());
                Assert.Equal(w.Sft[i].Prompt.Text, messages[0].GetProperty("content").GetString());
                Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
                Assert.Equal(w.Sft[i].Response, messages[1].GetProperty("content").GetString());
            }

            var evalLines = File.ReadAllLines(evalPath);
            Assert.Equal(w.EvalPrompts.Count, evalLines.Length);
            for (int i = 0; i < evalLines.Length; i++)
            {
                var row = JsonSerializer.Deserialize<Dictionary<string, string>>(evalLines[i])!;
                var p = w.EvalPrompts[i];
                Assert.Equal(p.Id, row["id"]);
                Assert.Equal(p.Text, row["prompt"]);
                Assert.Equal(p.Category, row["category"]);
                var metadata = row.Where(kv => kv.Key is not ("id" or "prompt" or "category")).ToDictionary();
                Assert.Equal(p.Metadata.OrderBy(kv => kv.Key), metadata.OrderBy(kv => kv.Key));
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
