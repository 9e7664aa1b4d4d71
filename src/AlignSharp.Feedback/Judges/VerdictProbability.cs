using AlignSharp.Models.Generation;

namespace AlignSharp.Feedback.Judges;

/// <summary>
/// Soft labels from the probabilities of a verdict's first token (Constitutional AI's RL stage, Bai et al. 2022,
/// §4.1: the normalised probabilities of the options' tokens are the preference label). At the generated token where
/// the verdict starts, every alternative the provider returned (the token itself and its top-k) is read as for the
/// positive verdict ("Yes", "Y", " yes"; "A"), for the negative one ("No", "N"; "B") or neither, and
/// P = Σ p(positive) / (Σ p(positive) + Σ p(negative)), with p = exp(log-prob). Tokens are compared after trimming
/// white space, quotes, brackets and markdown; yes/no case-insensitively and as prefixes (a small tokenizer may split
/// "Yes" into "Y" + "es"); A/B exactly.
/// </summary>
public static class VerdictProbability
{
    /// <summary>P(yes) / (P(yes) + P(no)) at the yes/no verdict's token; null without log-probs, a readable verdict or any yes/no mass.</summary>
    public static double? YesNo(IReadOnlyList<TokenLogprob>? tokens) =>
        Normalised(tokens, text => VerdictParser.YesNo(text)?.Index, t => IsPrefixOf(t, "yes"), t => IsPrefixOf(t, "no"));

    /// <summary>P(A) / (P(A) + P(B)) at the pairwise verdict's token; null without log-probs, an A/B verdict or any A/B mass.</summary>
    public static double? AOverB(IReadOnlyList<TokenLogprob>? tokens) =>
        Normalised(tokens, text => VerdictParser.Preference(text) is { Value: PairwisePreference.A or PairwisePreference.B } v ? v.Index : null,
            t => t == "A", t => t == "B");

    /// <summary>
    /// The normalised probability of the positive verdict at the token covering the character <paramref name="locate"/>
    /// finds in the tokens' concatenated text.
    /// </summary>
    public static double? Normalised(IReadOnlyList<TokenLogprob>? tokens, Func<string, int?> locate, Func<string, bool> positive, Func<string, bool> negative)
    {
        if (tokens is null || tokens.Count == 0) return null;
        string text = string.Concat(tokens.Select(t => t.Token));
        if (locate(text) is not int index) return null;
        int start = 0;
        foreach (var token in tokens)
        {
            if (index < start + token.Token.Length)
            {
                double p = 0, n = 0;
                var seen = new HashSet<string>();
                foreach (var candidate in (token.Top ?? []).Prepend(token))
                {
                    if (!seen.Add(candidate.Token) || !double.IsFinite(candidate.Logprob)) continue;
                    string word = Trim(candidate.Token);
                    if (positive(word)) p += Math.Exp(candidate.Logprob);
                    else if (negative(word)) n += Math.Exp(candidate.Logprob);
                }
                return p + n > 0 ? p / (p + n) : null;
            }
            start += token.Token.Length;
        }
        return null;
    }

    static bool IsPrefixOf(string word, string verdict) => word.Length > 0 && verdict.StartsWith(word, StringComparison.OrdinalIgnoreCase);

    static string Trim(string token) => token.Trim().Trim('*', '"', '\'', '(', ')', '[', ']', '.', ',', ':', '!', '<', '>', ' ');
}
