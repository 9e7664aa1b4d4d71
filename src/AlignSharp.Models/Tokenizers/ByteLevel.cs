namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// GPT-2's byte-level alphabet: every byte maps to one printable character so that BPE can work on
/// strings. Bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF map to themselves; the other 68 bytes map, in
/// byte order, to code points 256, 257, ... (so space is 'Ġ' U+0120 and newline is 'Ċ' U+010A).
/// </summary>
public static class ByteLevel
{
    /// <summary>Character for each byte value.</summary>
    public static readonly char[] ByteToChar = BuildTable();

    /// <summary>Byte for each character of the alphabet, -1 for characters outside it (indexed by char up to 0x17F).</summary>
    private static readonly short[] CharToByteTable = BuildInverse();

    private static char[] BuildTable()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    private static short[] BuildInverse()
    {
        var inverse = new short[0x180];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++) inverse[ByteToChar[b]] = (short)b;
        return inverse;
    }

    /// <summary>The byte a byte-level character stands for, or -1 if it is not in the alphabet.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>Maps UTF-8 bytes to their byte-level string.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++) span[i] = ByteToChar[b[i]];
        });
    }

    /// <summary>Maps a byte-level string back to its bytes; characters outside the alphabet are encoded as UTF-8 unchanged.</summary>
    public static void Decode(ReadOnlySpan<char> text, List<byte> output)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            int b = CharToByte(text[i]);
            if (b >= 0) { output.Add((byte)b); continue; }
            // Not a byte-level character (e.g. an added token's text): keep it as UTF-8.
            int len = char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? 2 : 1;
            int n = System.Text.Encoding.UTF8.GetBytes(text.Slice(i, len), utf8);
            for (int k = 0; k < n; k++) output.Add(utf8[k]);
            i += len - 1;
        }
    }
}
