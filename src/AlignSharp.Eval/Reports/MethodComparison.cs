using System.Net;
using System.Text;

namespace AlignSharp.Eval.Reports;

/// <summary>One method's rounds in a comparison, from the shared starting model.</summary>
/// <param name="Method">The method as the recipe spells it (dpo, grpo, ...).</param>
/// <param name="Rows">One evaluated row per round; the last is the method's result.</param>
/// <param name="WallTime">Time its rounds took (sampling, scoring, training; not the evaluation).</param>
/// <param name="Samples">Completions sampled from the policy over its rounds (the sample budget).</param>
public sealed record MethodRun(string Method, IReadOnlyList<EvalRow> Rows, TimeSpan WallTime, int Samples);

/// <summary>
/// Methods compared from one starting model at equal sample budget: per method, harmful compliance, over-refusal and
/// verifiable accuracy of its last round with the change from the starting model and its 95% paired bootstrap
/// interval over the held-out prompts, KL to the starting model, the samples it drew, its wall time, and the goal.
/// </summary>
/// <param name="Start">The starting model's row (SFT), with per-prompt outcomes.</param>
/// <param name="Runs">The methods, in the recipe's order.</param>
/// <param name="Goal">The recipe's success thresholds, checked per method.</param>
public sealed record MethodComparison(EvalRow Start, IReadOnlyList<MethodRun> Runs, ReportGoal Goal)
{
    private static readonly AlignmentMetric[] Shown = [AlignmentMetric.HarmfulCompliance, AlignmentMetric.OverRefusal, AlignmentMetric.VerifiableAccuracy];

    /// <summary>The table's header.</summary>
    public static readonly string[] Header = ["method", "rounds", "samples", "harmful compliance", "over-refusal", "verifiable accuracy", "KL to SFT", "wall time", "goal"];

    /// <summary>"4.5% (−66.7 pp [−70.1, −63.0])": the last round's rate, its change from the start and the 95% interval.</summary>
    private string Cell(MethodRun run, AlignmentMetric metric)
    {
        var last = run.Rows.Count > 0 ? run.Rows[^1] : Start;
        var change = AlignmentReport.Changes([Start, last])?.Single(c => c.Metric == metric);
        double rate = metric switch
        {
            AlignmentMetric.HarmfulCompliance => last.Scores.HarmfulCompliance,
            AlignmentMetric.OverRefusal => last.Scores.OverRefusal,
            _ => last.Scores.VerifiableAccuracy,
        };
        return change is null ? AlignmentReport.Pct(rate) : $"{AlignmentReport.Pct(rate)} ({AlignmentReport.Signed(change.Change)} {AlignmentReport.Interval(change).Replace(" pp", "")})";
    }

    /// <summary>The table's cells: the start row, then one row per method.</summary>
    public IReadOnlyList<string[]> Cells()
    {
        var rows = new List<string[]>
        {
            new[] { Start.Name, "—", "—", AlignmentReport.Pct(Start.Scores.HarmfulCompliance), AlignmentReport.Pct(Start.Scores.OverRefusal),
                AlignmentReport.Pct(Start.Scores.VerifiableAccuracy), AlignmentReport.Num(0), "—", "—" },
        };
        foreach (var run in Runs)
        {
            var last = run.Rows.Count > 0 ? run.Rows[^1] : Start;
            rows.Add([run.Method, run.Rows.Count.ToString(), run.Samples.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                Cell(run, AlignmentMetric.HarmfulCompliance), Cell(run, AlignmentMetric.OverRefusal), Cell(run, AlignmentMetric.VerifiableAccuracy),
                AlignmentReport.Num(last.Scores.KlToReference), $"{run.WallTime.TotalMinutes:F1} min", AlignmentReport.Goal([Start, last], Goal).Met ? "met" : "not met"]);
        }
        return rows;
    }

    /// <summary>Writes the table to the console, with a line on how to read it.</summary>
    public void Table(TextWriter output)
    {
        output.WriteLine($"Methods from the same {Start.Name} model at equal sample budget; each rate is the last round's, with its change from {Start.Name} and 95% paired bootstrap interval (pp):");
        AlignmentReport.WriteBoxed(Header, Cells().ToList(), output);
    }

    /// <summary>The table as an HTML section.</summary>
    public string Html()
    {
        string E(string s) => WebUtility.HtmlEncode(s);
        var h = new StringBuilder("<h2>Methods compared</h2><p>")
            .Append(E($"Every method starts from the same {Start.Name} model and samples the same number of completions a round from its policy. " +
                      $"Each rate is the last round's on the held-out prompts, with its change from {Start.Name} and the 95% paired bootstrap interval " +
                      "over prompts in percentage points (an interval that contains 0 is within the noise of this many prompts); wall time covers sampling, " +
                      "scoring and training, not the evaluation."))
            .Append("</p><table><tr>");
        foreach (var c in Header) h.Append("<th>").Append(E(c)).Append("</th>");
        h.Append("</tr>");
        foreach (var row in Cells())
        {
            h.Append("<tr>");
            foreach (var cell in row) h.Append("<td>").Append(E(cell)).Append("</td>");
            h.Append("</tr>");
        }
        return h.Append("</table>").ToString();
    }
}
