namespace AlignSharp.Models.ChatTemplates;

/// <summary>A 1-based line and column in the original template source.</summary>
internal readonly record struct SourcePosition(int Line, int Column)
{
    /// <summary>Position used for nodes synthesised by the interpreter.</summary>
    public static readonly SourcePosition None = new(0, 0);

    /// <summary>Maps a character offset of <paramref name="source"/> to its line and column.</summary>
    public static SourcePosition At(string source, int offset)
    {
        int line = 1, column = 1;
        for (int i = 0; i < offset && i < source.Length; i++)
        {
            if (source[i] == '\n') { line++; column = 1; }
            else column++;
        }
        return new SourcePosition(line, column);
    }
}
