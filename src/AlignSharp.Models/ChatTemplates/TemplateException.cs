namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// A chat template failed to parse or render. <see cref="Line"/> and <see cref="Column"/> (1-based) point at the
/// offending token in the template source, so the message reads like a compiler error:
/// <c>tokenizer_config.json chat_template:3:14: unexpected 'endfor', expected 'endif'</c>.
/// </summary>
public sealed class TemplateException : Exception
{
    /// <summary>1-based line of the offending token in the template source (0 when unknown).</summary>
    public int Line { get; }

    /// <summary>1-based column of the offending token in the template source (0 when unknown).</summary>
    public int Column { get; }

    /// <summary>Name of the template's file, as passed to <see cref="ChatTemplate.Parse"/>; null when not given.</summary>
    public string? Origin { get; }

    /// <summary>The bare reason, without the location prefix.</summary>
    public string Reason { get; }

    /// <summary>
    /// True when the template itself raised the error through <c>raise_exception(msg)</c>. Then <see cref="Exception.Message"/>
    /// is exactly the template's text, as transformers reports it; the location stays available in <see cref="Line"/>.
    /// </summary>
    public bool RaisedByTemplate { get; }

    /// <summary>Creates an error at a template position.</summary>
    public TemplateException(string reason, int line, int column, string? origin, bool raisedByTemplate = false, Exception? inner = null)
        : base(raisedByTemplate ? reason : Format(reason, line, column, origin), inner)
    {
        Reason = reason;
        Line = line;
        Column = column;
        Origin = origin;
        RaisedByTemplate = raisedByTemplate;
    }

    static string Format(string reason, int line, int column, string? origin)
    {
        string where = origin ?? "chat_template";
        return line > 0 ? $"{where}:{line}:{column}: {reason}" : $"{where}: {reason}";
    }
}
