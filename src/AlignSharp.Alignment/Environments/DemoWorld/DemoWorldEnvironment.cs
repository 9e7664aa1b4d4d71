using AlignSharp.Eval;
using AlignSharp.Feedback;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>
/// The embedded demo's generated "assistant world" (<see cref="AssistantWorld"/>) as an environment: its SFT
/// conversations, alignment and held-out prompts, and its own checks (<see cref="WorldChecks"/>).
/// </summary>
public sealed class DemoWorldEnvironment(AssistantWorld world) : IAlignmentEnvironment
{
    /// <summary>The recipe name: <c>environment: assistant_world</c>.</summary>
    public const string RecipeName = "assistant_world";

    public static DemoWorldEnvironment Generate(WorldOptions options) => new(AssistantWorld.Generate(options));

    public AssistantWorld World => world;
    public string Name => RecipeName;
    public IReadOnlyList<(PromptRecord Prompt, string Response)> Demonstrations => world.Sft;
    public IReadOnlyList<PromptRecord> TrainPrompts => world.TrainPrompts;
    public IReadOnlyList<PromptRecord> EvalPrompts => world.EvalPrompts;
    public IReadOnlyDictionary<string, ISignalSource> Checks => WorldChecks.All;
    public AlignmentChecks Evaluation => WorldChecks.Evaluation;
}
