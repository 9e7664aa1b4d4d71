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

    /// <summary>Offsets where each line of <paramref name="source"/> starts, for <see cref="At(string, int[], int)"/>.</summary>
    public static int[] LineStarts(string source)
    {
        var starts = new List<int> { 0 };
        for (int i = 0; i < source.Length; i++) if (source[i] == '\n') starts.Add(i + 1);
        return [.. starts];
    }

    /// <summary>The same as <see cref="At(string, int)"/> in O(log lines): the parser asks for every token's position,
    /// and a linear scan each time made parsing a long template quadratic.</summary>
    public static SourcePosition At(string source, int[] lineStarts, int offset)
    {
        offset = Math.Clamp(offset, 0, source.Length);
        int index = Array.BinarySearch(lineStarts, offset);
        int line = index >= 0 ? index : ~index - 1;
        return new SourcePosition(line + 1, offset - lineStarts[line] + 1);
    }
}
