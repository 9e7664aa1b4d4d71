using System.Globalization;
using System.Runtime.CompilerServices;

namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// The character classes the pre-tokenizer regexes use, on whole code points (so letters and digits
/// outside the BMP, e.g. 𝐀 or 𠀀, classify as the Rust/Oniguruma regexes of Hugging Face tokenizers see
/// them, not as lone UTF-16 surrogates).
/// \p{L} = Lu Ll Lt Lm Lo; \p{N} = Nd Nl No; \s = Unicode White_Space.
/// </summary>
internal static class CharClass
{
    public const byte Other = 0, Letter = 1, Number = 2, Space = 3;

    private static readonly byte[] Ascii = BuildAscii();

    private static byte[] BuildAscii()
    {
        var t = new byte[128];
        for (int c = 0; c < 128; c++) t[c] = Slow(c);
        return t;
    }

    /// <summary>Class of the code point starting at text[i]; <paramref name="length"/> is 2 for a surrogate pair, else 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte At(string text, int i, out int length)
    {
        char c = text[i];
        length = 1;
        if (c < 128) return Ascii[c];
        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
        {
            length = 2;
            return Slow(char.ConvertToUtf32(c, text[i + 1]));
        }
        return Slow(c);
    }

    /// <summary>Class at i, or <see cref="Space"/>-excluded sentinel 255 past the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte AtOrEnd(string text, int i, int end) => i < end ? At(text, i, out _) : (byte)255;

    private static byte Slow(int cp)
    {
        if (IsWhiteSpace(cp)) return Space;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            _ => Other,
        };
    }

    /// <summary>The Unicode White_Space property.</summary>
    public static bool IsWhiteSpace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };
}
