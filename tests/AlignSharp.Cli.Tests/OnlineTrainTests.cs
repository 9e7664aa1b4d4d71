using System.Text.Json;
using AlignSharp.Cli;
using AlignSharp.Training.Methods;

namespace AlignSharp.Cli.Tests;

/// <summary>
/// `train METHOD` for the online methods on a prompt-only dataset: end to end on the tiny model with a verifier and a
/// world check as rewards, bitwise resume from a checkpoint in the middle of the run, and the one-line errors of a bad
/// reward spec, a reward_weights count that differs, and a bad dataset row.
/// </summary>
public class OnlineTrainTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Prompts with an "answer" (exact_answer) and the world's one_word "format" (world:follow_format): a random tiny
    /// model's short completions pass the format check now and then, so rewards differ within a group and the policy moves.
    /// </summary>
    private string Prompts()
    {
        string path = Path.Combine(tiny.Root, "prompts.jsonl");
        if (!File.Exists(path))
            File.WriteAllLines(path, Enumerable.Range(1, 12).Select(i => JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["prompt"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = $"What is {i} + {i}? One word." } },
                ["answer"] = (2 * i).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["format"] = "one_word",
            })));
        return path;
    }

    /// <summary>Each method's keys for a short run: few tokens per completion, a learning rate that moves the tiny model.</summary>
    private static string[] MethodKeys(string method) => method switch
    {
        "online_dpo" => ["max_new_tokens=4", "top_k=0", "per_device_train_batch_size=2"],
        "grpo" => ["num_generations=2", "max_completion_length=4", "per_device_train_batch_size=2", "num_iterations=2", "beta=0.04"],
        "rloo" => ["num_generations=2", "max_completion_length=4", "per_device_train_batch_size=2"],
        "reinforce_pp" => ["num_generations=2", "max_completion_length=4", "per_device_train_batch_size=2"],
        "ppo" => ["max_completion_length=4", "per_device_train_batch_size=2", "num_ppo_epochs=2", "temperature=1"],   // a separate critic (TRL's)
        _ => throw new ArgumentException($"no test keys for {method}", nameof(method)),
    };

    private string[] Train(string method, string output, params string[] extra) =>
    [
        "train", method, .. new[]
        {
            $"model={tiny.Model}", $"dataset={Prompts()}", $"output_dir={output}", "reward_funcs=[exact_answer, world:follow_format]",
            "reward_weights=[1, 0.5]", "max_steps=3", "logging_steps=1", "learning_rate=0.01", "lr_scheduler_type=cosine", "seed=3",
        }.Concat(MethodKeys(method)).Concat(extra).SelectMany(s => new[] { "--set", s }),
    ];

    public static TheoryData<string> OnlineMethods() => [.. TrainingMethods.All.Where(m => m.IsOnline).Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(OnlineMethods))]
    public void Trains_from_prompts_with_a_verifier_and_a_world_check_as_rewards(string method)
    {
        string output = Path.Combine(tiny.Root, $"{method}-e2e");
        var (code, text, err) = Run(Train(method, output));
        Assert.True(code == 0, err + text);
        Assert.Contains($"{method}: 12 prompts from", text);
        Assert.Contains("rewards: exact_answer + 0.5·format", text);
        Assert.Contains("step 1: loss ", text);
        Assert.Contains(", reward ", text);
        Assert.Contains("completions/mean_length", text);
        Assert.Contains("done: 3 steps", text);
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer_config.json")));
        var metrics = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1L, 2L, 3L], metrics.Select(m => m.GetProperty("step").GetInt64()));
        foreach (var m in metrics)
        {
            double reward = m.GetProperty("reward").GetDouble();
            Assert.InRange(reward, 0, 1.5);   // exact_answer ∈ {0, 1} + 0.5 · follow_format ∈ {0, 1}
            Assert.True(m.TryGetProperty("rewards/format/mean", out _), "no per-function reward metric");
            Assert.True(m.TryGetProperty("rewards/exact_answer/mean", out _), "no per-function reward metric");
            // Logged on steps with a first pass over a generation batch (later passes' weights moved on purpose).
            if (m.TryGetProperty("sampling/logp_max_deviation", out var deviation)) Assert.InRange(deviation.GetDouble(), 0, 1e-5);
        }
        Assert.Contains(metrics, m => m.TryGetProperty("sampling/logp_max_deviation", out _));
    }

    /// <summary>
    /// A run killed after its last checkpoint and resumed ends with bitwise the weights of an uninterrupted run: the
    /// checkpoint keeps the generation batch, the position in it and the sampler's call count.
    /// </summary>
    [Theory]
    [InlineData("grpo", false)]
    [InlineData("grpo", true)]
    [InlineData("online_dpo", false)]
    [InlineData("ppo", false)]
    public void Resumed_from_a_mid_run_checkpoint_ends_bitwise_equal_to_an_uninterrupted_run(string method, bool lora)
    {
        string straight = Path.Combine(tiny.Root, $"{method}-{lora}-straight"), resumed = Path.Combine(tiny.Root, $"{method}-{lora}-resumed");
        string weights = lora ? "adapter_model.safetensors" : "model.safetensors";
        string[] keys = ["max_steps=4", "save_steps=2", $"use_peft={(lora ? "true" : "false")}", "lora_dropout=0"];
        var (code, text, err) = Run(Train(method, straight, keys));
        Assert.True(code == 0, err + text);

        (code, text, err) = Run(Train(method, resumed, keys));
        Assert.True(code == 0, err + text);
        // As if killed after step 3: the last checkpoint is step 2, in the middle of the run (and of a generation batch for grpo).
        Directory.Delete(Path.Combine(resumed, "checkpoint-4"), true);
        File.Delete(Path.Combine(resumed, weights));
        (code, text, err) = Run(Train(method, resumed, [.. keys, "resume=true"]));
        Assert.True(code == 0, err + text);
        Assert.Contains("resumed from checkpoint-2", text);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, weights)), File.ReadAllBytes(Path.Combine(resumed, weights)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(straight, weights)), File.ReadAllBytes(Path.Combine(straight, "checkpoint-2", weights)));
    }

    /// <summary>rm:FOLDER: a reward model `train rm` wrote scores the completions (its weights freed with the run).</summary>
    [Fact]
    public void A_reward_model_folder_is_a_reward_source()
    {
        string rm = Path.Combine(tiny.Root, "rm"), output = Path.Combine(tiny.Root, "grpo-rm");
        var (code, text, err) = Run("train", "rm", "--set", $"model={tiny.Model}", "--set", $"dataset={TinyModelFolder.Data("preference.jsonl")}",
            "--set", $"output_dir={rm}", "--set", "max_steps=1", "--set", "max_length=128", "--set", "per_device_train_batch_size=2");
        Assert.True(code == 0, err + text);
        (code, text, err) = Run(Train("grpo", output, $"reward_funcs=[rm:{rm}]", "reward_weights=null", "max_steps=2"));
        Assert.True(code == 0, err + text);
        Assert.Contains("rewards: reward_model:rm", text);
        var last = JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[^1]).RootElement;
        Assert.True(double.IsFinite(last.GetProperty("rewards/reward_model:rm/mean").GetDouble()));
        Assert.True(last.GetProperty("rewards/reward_model:rm/std").GetDouble() > 0, "a reward model scores different completions differently");
    }

    [Fact]
    public void A_bad_reward_spec_is_one_line_naming_the_key_the_spec_and_the_kinds()
    {
        string output = Path.Combine(tiny.Root, "bad-spec");
        var (code, _, err) = Run(Train("online_dpo", output, "reward_funcs=[exact_answer, wrold:follow_format]", "reward_weights=null"));
        Assert.Equal(1, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("reward_funcs[1] 'wrold:follow_format': unknown reward source kind 'wrold'", err);
        foreach (var kind in new[] { "rm:FOLDER", "exact_answer", "world:CHECK", "constitution:FILE", "judge:rubric" }) Assert.Contains(kind, err);

        (code, _, err) = Run(Train("online_dpo", output, "reward_funcs=[world:correct]", "reward_weights=null"));
        Assert.Equal(1, code);
        Assert.Contains("reward_funcs[0] 'world:correct': no world check 'correct'", err);
        Assert.Contains("world:correct_answer", err);

        (code, _, err) = Run(Train("online_dpo", output, "reward_funcs=[judge:rubric]", "reward_weights=null"));
        Assert.Equal(1, code);
        Assert.Contains("reward_funcs[0] 'judge:rubric': judge:rubric needs a judge, and the recipe has no judge: block", err);

        (code, _, err) = Run(Train("online_dpo", output, $"reward_funcs=[rm:{tiny.Root}/no-such-rm]", "reward_weights=null"));
        Assert.Equal(1, code);
        Assert.Contains($"reward_funcs[0] 'rm:{tiny.Root}/no-such-rm': ", err);
        Assert.Contains("reward model folder not found", err);
        Assert.False(Directory.Exists(output), "output_dir was made although the recipe was refused");
    }

    [Fact]
    public void A_reward_weights_count_that_differs_from_reward_funcs_is_refused()
    {
        var (code, _, err) = Run(Train("online_dpo", Path.Combine(tiny.Root, "bad-weights"), "reward_weights=[1, 0.5, 2]"));
        Assert.Equal(1, code);
        Assert.Contains("reward_weights: 3 weights for 2 reward_funcs (exact_answer, world:follow_format); give one weight per function", err);
    }

    [Fact]
    public void A_bad_prompt_row_is_named_by_file_and_line()
    {
        string path = Path.Combine(tiny.Root, "bad-prompts.jsonl");
        File.WriteAllLines(path, ["{\"prompt\": [{\"role\": \"user\", \"content\": \"2 + 2?\"}], \"answer\": \"4\"}", "", "{\"prompt\": [{\"role\": \"robot\", \"content\": \"hi\"}]}"]);
        var (code, _, err) = Run(Train("online_dpo", Path.Combine(tiny.Root, "bad-row"), $"dataset={path}"));
        Assert.Equal(1, code);
        Assert.Contains($"{path}:3: \"prompt\"[0].role must be one of system, user, assistant, tool (got \"robot\")", err);
    }

    [Fact]
    public void Help_lists_the_reward_keys_and_every_spec_kind()
    {
        foreach (var method in TrainingMethods.All.Where(m => m.IsOnline))
        {
            var (code, output, _) = Run("train", method.Name, "--help");
            Assert.Equal(0, code);
            foreach (var key in new[] { "reward_funcs", "reward_weights", "reward_concurrency", "learning_rate", "use_peft" }) Assert.Contains($"  {key}:", output);
            foreach (var kind in new[] { "rm:FOLDER", "exact_answer", "world:CHECK", "constitution:FILE", "judge:rubric", "judge: {endpoint:" }) Assert.Contains(kind, output);
            foreach (var check in new[] { "refuse_harmful", "help_benign", "correct_answer", "follow_format" }) Assert.Contains(check, output);
        }
        var (_, dpo, _) = Run("train", "dpo", "--help");
        Assert.DoesNotContain("reward_funcs", dpo);
    }

    /// <summary>Each online recipe runs with `run RECIPE` as written, but on the tiny model, for two short steps.</summary>
    [Theory]
    [MemberData(nameof(OnlineMethods))]
    public void The_methods_recipe_runs_with_run_recipe(string method)
    {
        string output = Path.Combine(tiny.Root, $"run-{method}");
        string length = method == "online_dpo" ? "max_new_tokens=4" : "max_completion_length=4";
        var (code, text, err) = Run(["run", TinyModelFolder.Recipe($"{method}.yaml"),
            .. new[] { $"model={tiny.Model}", $"dataset={TinyModelFolder.Data("prompts.jsonl")}", $"output_dir={output}", "max_steps=2", length }.SelectMany(s => new[] { "--set", s })]);
        Assert.True(code == 0, err + text);
        Assert.Contains($"{method}: 64 prompts from", text);
        Assert.Contains("rewards: exact_answer", text);
        Assert.Contains("done: 2 steps", text);
    }

    [Fact]
    public void An_online_recipes_judge_block_is_read_as_the_judge_not_as_training_keys()
    {
        string output = Path.Combine(tiny.Root, "judge-block");
        var (code, text, err) = Run(Train("online_dpo", output, "max_steps=1", "judge.endpoint=http://127.0.0.1:9/v1", "judge.model=j",
            $"reward_funcs=[exact_answer, constitution:{TinyModelFolder.Recipe("constitution.yaml")}]"));
        Assert.True(code == 0, err + text);   // the judge is connected only for judged principles and judge:rubric; this constitution has checks only
        Assert.Contains("rewards: exact_answer + 0.5·constitution:", text);
        (code, _, err) = Run(Train("online_dpo", output, "judge.endpoint=http://127.0.0.1:9/v1", "judge.modle=j"));
        Assert.Equal(2, code);   // a usage error, as the demo's role blocks
        Assert.Contains("judge.modle: unknown key", err);
    }

    [Fact]
    public void A_judge_block_in_an_offline_recipe_is_an_unknown_key()
    {
        var (code, _, err) = Run("train", "dpo", "--set", $"model={tiny.Model}", "--set", $"dataset={TinyModelFolder.Data("preference.jsonl")}",
            "--set", "judge.model=x", "--set", $"output_dir={Path.Combine(tiny.Root, "dpo-judge")}");
        Assert.Equal(1, code);
        Assert.Contains("unknown key 'judge.model'", err);
    }
}
