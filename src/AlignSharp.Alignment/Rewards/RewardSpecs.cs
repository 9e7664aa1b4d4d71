using AlignSharp.Alignment.Environments.DemoWorld;
using AlignSharp.Alignment.Pipelines;
using AlignSharp.Feedback;
using AlignSharp.Feedback.Judges;
using AlignSharp.Feedback.Providers;
using AlignSharp.Feedback.Verifiers;
using AlignSharp.Training;
using AlignSharp.Training.Online;

namespace AlignSharp.Alignment.Rewards;

/// <summary>
/// The reward sources a trainer recipe's <c>reward_funcs</c> may name beyond <c>rm:FOLDER</c> (which Training reads):
/// <c>exact_answer</c> (the general verifier of a prompt's "answer" column), <c>world:CHECK</c> (the embedded demo
/// world's checks), <c>constitution:FILE</c> (a constitution's principles, each scored by its check or by the judge)
/// and <c>judge:rubric</c> (the judge grading on Self-Rewarding's 5-point rubric). The judge is the recipe's
/// <c>judge:</c> role block, connected on first use and closed with this resolver.
/// </summary>
public sealed class RewardSpecs : IRewardSourceResolver, IDisposable
{
    private readonly ChatProviderOptions? _judgeRole;
    private JudgeConnection? _judge;

    /// <param name="judge">The recipe's judge: block (an endpoint or a local folder); null when it has none.</param>
    public RewardSpecs(ChatProviderOptions? judge = null) => _judgeRole = judge;

    /// <summary>The checks <c>world:CHECK</c> and a constitution's <c>check:</c> may name: the demo world's, and exact_answer.</summary>
    public static IReadOnlyDictionary<string, ISignalSource> Checks { get; } =
        new Dictionary<string, ISignalSource>(WorldChecks.All) { ["exact_answer"] = new ExactAnswerVerifier() };

    public IReadOnlyList<RewardSpecKind> Kinds { get; } =
    [
        new("exact_answer", "1 when the completion starts with the prompt's \"answer\" column (first number, or first words), else 0; skips prompts without one"),
        new("world:CHECK", $"a check of the embedded demo world, by name: {string.Join(", ", WorldChecks.All.Keys)} (reads the prompt's answer/harmful/format columns)"),
        new("constitution:FILE", "a constitution's principles (recipes/constitution.yaml): checks score theirs, the judge: block the text-only ones"),
        new("judge:rubric", "the judge: block's model grades each completion on a 5-point rubric (Self-Rewarding LMs), scaled to [0, 1]"),
    ];

    /// <summary>The judge's description (endpoint or folder), once a spec has used it; null before.</summary>
    public string? Judge => _judge?.Description;

    public ISignalSource Resolve(string spec, string where)
    {
        string kind = RewardSpec.KindOf(spec);
        string? argument = RewardSpec.ArgumentOf(spec);
        switch (kind)
        {
            case "exact_answer":
                if (argument is not null) throw new TrainingException($"{where}: exact_answer takes no argument (it reads each prompt's \"answer\" column); write exact_answer");
                return Checks["exact_answer"];
            case "world":
                if (argument is null || !WorldChecks.All.TryGetValue(argument, out var check))
                    throw new TrainingException($"{where}: {(argument is null ? "name a check" : $"no world check '{argument}'")}; the demo world's checks: {string.Join(", ", WorldChecks.All.Keys.Select(k => "world:" + k))}");
                return check;
            case "constitution":
                return ConstitutionOf(argument is { Length: > 0 } file ? file : throw new TrainingException($"{where}: give the constitution file after constitution: (constitution:recipes/constitution.yaml)"), where);
            case "judge":
                if (argument != "rubric") throw new TrainingException($"{where}: the judge kind is judge:rubric (a 5-point rubric grade from the judge: block's model)");
                return new PointwiseJudge(JudgeClient(where, "judge:rubric"));
            default:
                throw new ArgumentException($"{where}: kind '{kind}' is not one of this resolver's ({string.Join(", ", Kinds.Select(k => k.Syntax))})", nameof(spec));
        }
    }

    /// <summary>The constitution's principles as one source; text-only (and scorer: judge) principles are asked of the judge.</summary>
    private ConstitutionSource ConstitutionOf(string file, string where)
    {
        Constitution constitution;
        try { constitution = Constitution.Load(file, Checks); }
        catch (FeedbackException e) { throw new TrainingException($"{where}: {e.Message}"); }
        if (constitution.Principles.Any(p => constitution.JudgeScores(p)) && _judgeRole is null)
        {
            var judged = constitution.Principles.Where(p => constitution.JudgeScores(p)).Select(p => p.Id);
            throw new TrainingException($"{where}: principles {string.Join(", ", judged)} are scored by a judge, and the recipe has no judge: block; " +
                "add one (judge: {endpoint: http://HOST:PORT/v1, model: NAME} or judge: {model: DIR}), or give them a check:");
        }
        return new ConstitutionSource(constitution, p => new PrincipleJudge(JudgeClient(where, file), p.Text, p.Id));
    }

    private Microsoft.Extensions.AI.IChatClient JudgeClient(string where, string what)
    {
        if (_judgeRole is null)
            throw new TrainingException($"{where}: {what} needs a judge, and the recipe has no judge: block; add one (judge: {{endpoint: http://HOST:PORT/v1, model: NAME}} or judge: {{model: DIR}})");
        try { return (_judge ??= JudgeConnection.Connect(_judgeRole)).Client; }
        catch (FeedbackException e) { throw new TrainingException($"{where}: {e.Message}"); }
    }

    /// <summary>Closes the judge connection, if a spec opened one.</summary>
    public void Dispose() => _judge?.Dispose();
}
