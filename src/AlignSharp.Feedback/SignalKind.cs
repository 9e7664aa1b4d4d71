namespace AlignSharp.Feedback;

/// <summary>What kind of automated signal produced a label.</summary>
public enum SignalKind
{
    /// <summary>A programmatic check against known facts (expected answer, format constraint).</summary>
    Verifier,
    /// <summary>A principle from a constitution, checked programmatically or by a judge.</summary>
    Principle,
    /// <summary>A model asked to grade the response (LLM-as-a-judge).</summary>
    Judge,
    /// <summary>A combination of other sources (weighted sum, lexicographic).</summary>
    Composite,
}
