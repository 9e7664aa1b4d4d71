namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Bounds that turn a runaway template (endless loop, unbounded recursion, <c>'x' * 10**12</c>, <c>range(10**12)</c>)
/// into a <see cref="TemplateException"/> instead of a hang, an out-of-memory or a stack overflow. Real chat templates
/// stay orders of magnitude below every limit, even on long conversations.
/// </summary>
internal static class TemplateLimits
{
    /// <summary>Nesting of expressions and statements in the source (parentheses, brackets, <c>not</c>/<c>-</c> chains, blocks).</summary>
    public const int MaxNesting = 100;

    /// <summary>Evaluations active at once while rendering: macro recursion and deep expression trees.</summary>
    public const int MaxRenderDepth = 400;

    /// <summary>Statements plus expressions one render may evaluate.</summary>
    public const long MaxSteps = 5_000_000;

    /// <summary>Characters in one string value or in the output.</summary>
    public const long MaxChars = 1 << 24;

    /// <summary>Items in one list (range, list repetition).</summary>
    public const long MaxItems = 1 << 22;

    /// <summary>Throws (as a template error at the caller's position) when a string of <paramref name="length"/> characters would exceed <see cref="MaxChars"/>.</summary>
    public static void CheckChars(double length, string what)
    {
        if (length > MaxChars)
            throw new InvalidOperationException($"{what} would make a string of {length:0} characters, more than the {MaxChars} a chat template may build");
    }

    /// <summary>Throws when a list of <paramref name="count"/> items would exceed <see cref="MaxItems"/>.</summary>
    public static void CheckItems(double count, string what)
    {
        if (count > MaxItems)
            throw new InvalidOperationException($"{what} would make a list of {count:0} items, more than the {MaxItems} a chat template may build");
    }
}
