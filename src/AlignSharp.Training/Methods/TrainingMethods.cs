using AlignSharp.Training.Core;
using AlignSharp.Training.Data;
using AlignSharp.Training.Online;
using AlignSharp.Training.Trainers;

namespace AlignSharp.Training.Methods;

/// <summary>
/// The registry of training methods: every method <c>alignsharp train METHOD</c>, a recipe's <c>method:</c> key and
/// the pipelines can name. Adding a method is one entry here (its trainer and options records live in Trainers/).
/// </summary>
public static class TrainingMethods
{
    /// <summary>Supervised fine-tuning on text, conversations or prompt–completion rows (TRL's SFTTrainer).</summary>
    public static TrainingMethod Sft { get; } = new("sft", "supervised fine-tuning (TRL's SFTTrainer)", 2e-5f, null,
        new TrlTrainer("SFTConfig", "trl sft"), [],
        (a, m, e, o) => new SftTrainer(a, m, Sft!.SftOf(e), e.PadId, e.EosId, e.SkippedRows));

    /// <summary>A Bradley–Terry reward model (body + score head) on preference pairs (Ouyang et al. 2022; TRL's RewardTrainer).</summary>
    public static TrainingMethod RewardModel { get; } = new("rm", "a reward model on preference pairs (Bradley–Terry; TRL's RewardTrainer)", 1e-4f, DatasetKind.Preference,
        new TrlTrainer("RewardConfig", "trl reward"), [OptionsSlot.Of(new RewardModelOptions())],
        (a, m, e, o) => new RewardModelTrainer(a, m as RewardModelTrainable ?? throw new ArgumentException("rm trains a RewardModelTrainable (a body with a score head)", "model"),
            RewardModel!.PairsOf(e), e.PadId, o.Get<RewardModelOptions>(), e.SkippedRows));

    /// <summary>Direct Preference Optimization and its variants (Rafailov et al. 2023; TRL's DPOTrainer).</summary>
    public static TrainingMethod Dpo { get; } = new("dpo", "Direct Preference Optimization (Rafailov et al. 2023; TRL's DPOTrainer)", 1e-6f, DatasetKind.Preference,
        new TrlTrainer("DPOConfig", "trl dpo"), [OptionsSlot.Of(new DpoOptions()), OptionsSlot.Of(new ReferenceOptions())],
        (a, m, e, o) => new DpoTrainer(a, m, Dpo!.PairsOf(e), e.PadId, o.Get<DpoOptions>(), o.Get<ReferenceOptions>().PrecomputeRefLogProbs, e.SkippedRows));

    /// <summary>Kahneman–Tversky Optimization on unpaired desirable/undesirable completions (Ethayarajh et al. 2024; TRL's KTOTrainer).</summary>
    public static TrainingMethod Kto { get; } = new("kto", "Kahneman–Tversky Optimization on unpaired labels (Ethayarajh et al. 2024)", 1e-6f, DatasetKind.UnpairedPreference,
        new TrlTrainer("KTOConfig", "trl kto"), [OptionsSlot.Of(new KtoOptions())],
        (a, m, e, o) => new KtoTrainer(a, m, Kto!.UnpairedOf(e), e.PadId, o.Get<KtoOptions>(), e.SkippedRows));

    /// <summary>Odds Ratio Preference Optimization, no reference model (Hong et al. 2024; TRL's ORPOTrainer).</summary>
    public static TrainingMethod Orpo { get; } = new("orpo", "Odds Ratio Preference Optimization, no reference model (Hong et al. 2024)", 1e-6f, DatasetKind.Preference,
        new TrlTrainer("ORPOConfig", "accelerate launch examples/scripts/orpo.py",
            "TRL's CLI has no orpo command; examples/scripts/orpo.py in TRL's repository runs trl.experimental.orpo.ORPOTrainer"),
        [OptionsSlot.Of(new OrpoOptions())],
        (a, m, e, o) => new OrpoTrainer(a, m, Orpo!.PairsOf(e), e.PadId, o.Get<OrpoOptions>(), e.SkippedRows));

    /// <summary>Simple Preference Optimization: length-normalised, target margin, no reference (Meng et al. 2024; TRL's CPOTrainer, loss_type simpo).</summary>
    public static TrainingMethod SimPo { get; } = new("simpo", "Simple Preference Optimization, length-normalised, no reference model (Meng et al. 2024)", 1e-6f, DatasetKind.Preference,
        new TrlTrainer("CPOConfig", "accelerate launch examples/scripts/cpo.py",
            "TRL runs SimPO as CPOTrainer with loss_type simpo and has no cpo CLI command; examples/scripts/cpo.py in TRL's repository runs trl.experimental.cpo.CPOTrainer"),
        [OptionsSlot.Of(new SimPoOptions())],
        (a, m, e, o) => new SimPoTrainer(a, m, SimPo!.PairsOf(e), e.PadId, o.Get<SimPoOptions>(), e.SkippedRows));

    /// <summary>Group Relative Policy Optimization: groups of samples per prompt, group-relative advantages, clipped ratio (Shao et al. 2024; TRL's GRPOTrainer).</summary>
    public static TrainingMethod Grpo { get; } = OnlineMethod("grpo", "Group Relative Policy Optimization: group-relative advantages over num_generations samples per prompt (Shao et al. 2024; TRL's GRPOTrainer)", 1e-6f,
        new TrlTrainer("GRPOConfig", "trl grpo"),
        new GrpoOptions(), (a, m, p, o, skipped) => new GrpoTrainer(a, m, p.Prompts, p.Encoder, p.Rewards, o, skipped));

    /// <summary>REINFORCE leave-one-out: each sample's baseline is the mean reward of the others of its prompt (Ahmadian et al. 2024; TRL's RLOOTrainer).</summary>
    public static TrainingMethod Rloo { get; } = OnlineMethod("rloo", "REINFORCE Leave-One-Out: the other samples of a prompt are each sample's baseline (Ahmadian et al. 2024; TRL's RLOOTrainer)", 1e-6f,
        new TrlTrainer("RLOOConfig", "trl rloo"),
        new RlooOptions(), (a, m, p, o, skipped) => new RlooTrainer(a, m, p.Prompts, p.Encoder, p.Rewards, o, skipped));

    /// <summary>REINFORCE++: per-token KL-penalised returns with global advantage normalisation (Hu 2025; OpenRLHF's advantage_estimator reinforce).</summary>
    public static TrainingMethod ReinforcePlusPlus { get; } = OnlineMethod("reinforce_pp", "REINFORCE++: KL-penalised returns, advantages normalised over the whole batch (Hu 2025; OpenRLHF)", 1e-6f,
        new TrlTrainer("REINFORCE++ (OpenRLHF)", "python -m openrlhf.cli.train_ppo_ray --advantage_estimator reinforce",
            "TRL has no REINFORCE++ trainer; OpenRLHF's train_ppo_ray with --advantage_estimator reinforce runs it (its actor learning rate default is 1e-6)"),
        new ReinforcePlusPlusOptions(), (a, m, p, o, skipped) => new ReinforcePlusPlusTrainer(a, m, p.Prompts, p.Encoder, p.Rewards, o, skipped));

    /// <summary>PPO for RLHF: a critic, per-token KL penalty in the reward, GAE, clipped policy and value losses (Schulman et al. 2017, Ouyang et al. 2022; TRL's PPOTrainer).</summary>
    public static TrainingMethod Ppo { get; } = OnlineMethod("ppo", "PPO (RLHF): a critic, KL-penalised per-token rewards, GAE, clipped policy and value losses (Schulman et al. 2017; Ouyang et al. 2022)", 5e-5f,
        new TrlTrainer("PPOConfig", "accelerate launch examples/scripts/ppo/ppo.py",
            "TRL's CLI has no ppo command; examples/scripts/ppo/ppo.py in TRL's repository runs trl.experimental.ppo.PPOTrainer (PPOConfig keeps transformers' learning rate, 5e-5)"),
        new PpoOptions(), (a, m, p, o, skipped) => new PpoTrainer(a,
            m as PolicyAndValue ?? throw new ArgumentException("ppo trains a PolicyAndValue (the policy with its critic)", "model"), p.Prompts, p.Encoder, p.Rewards, o, skipped));

    /// <summary>Online DPO: two samples per prompt from the current policy, ranked by the reward functions, a DPO step (Guo et al. 2024; TRL's OnlineDPOTrainer).</summary>
    public static TrainingMethod OnlineDpo { get; } = OnlineMethod("online_dpo", "online DPO: two samples per prompt ranked by the reward functions, a DPO step (Guo et al. 2024)", 5e-7f,
        new TrlTrainer("OnlineDPOConfig", "accelerate launch examples/scripts/online_dpo.py",
            "TRL's CLI has no online_dpo command; examples/scripts/online_dpo.py in TRL's repository runs trl.experimental.online_dpo.OnlineDPOTrainer"),
        new OnlineDpoOptions(), (a, m, p, o, skipped) => new OnlineDpoTrainer(a, m, p.Prompts, p.Encoder, p.Rewards, o, skipped, p.Judge));

    /// <summary>Every method, in the order help texts list them: offline, then online.</summary>
    public static IReadOnlyList<TrainingMethod> All { get; } = [Sft, RewardModel, Dpo, Kto, Orpo, SimPo, Grpo, Rloo, ReinforcePlusPlus, Ppo, OnlineDpo];

    /// <summary>The names, as recipes spell them.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(m => m.Name).ToList();

    /// <summary>"sft | rm | dpo | kto | orpo | simpo | ...", for messages and help.</summary>
    public static string Choices => string.Join(" | ", Names);

    /// <summary>The method called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static TrainingMethod? Find(string name) => All.FirstOrDefault(m => string.Equals(m.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The method called <paramref name="name"/>; <paramref name="where"/> ("recipe.yaml:1: method", "--set method") names its source in the error.</summary>
    /// <exception cref="TrainingException">No such method.</exception>
    public static TrainingMethod Parse(string name, string where) =>
        Find(name) ?? throw new TrainingException($"{where}: '{name}' is not a training method ({Choices})");

    /// <summary>
    /// An online method: prompt-only data, its options record and the reward keys (<see cref="OnlineRewardOptions"/>);
    /// <paramref name="create"/> gets the prompts with their reward functions and the skipped-row count.
    /// </summary>
    private static TrainingMethod OnlineMethod<TOptions>(string name, string description, float learningRate, TrlTrainer trl, TOptions defaults,
        Func<TrainingArguments, TrainableModel, OnlineInputs, TOptions, int, Trainer> create) where TOptions : class
    {
        TrainingMethod? method = null;
        method = new(name, description, learningRate, DatasetKind.PromptOnly, trl, [OptionsSlot.Of(defaults), OptionsSlot.Of(new OnlineRewardOptions())],
            (a, m, e, o) => create(a, m, method!.OnlineOf(e), o.Get<TOptions>(), e.SkippedRows));
        return method;
    }
}
