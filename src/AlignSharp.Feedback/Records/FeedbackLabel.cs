namespace AlignSharp.Feedback;

/// <summary>
/// The one record every signal source returns: how good a response is to a prompt (higher is better; each source
/// documents its range, the built-in ones use [0, 1]), why, and where the judgement came from.
/// </summary>
/// <param name="Score">Higher is better.</param>
/// <param name="Rationale">One human-readable line saying what was found.</param>
/// <param name="Provenance">Which source, principle, model, template, seed and timing produced it.</param>
/// <param name="Parts">Optional breakdown (principle id or source name → score) for composite and multi-principle sources.</param>
public sealed record FeedbackLabel(double Score, string Rationale, Provenance Provenance, IReadOnlyDictionary<string, double>? Parts = null);
