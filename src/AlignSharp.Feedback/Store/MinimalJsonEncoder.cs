using System.Text.Encodings.Web;

namespace AlignSharp.Feedback.Store;

/// <summary>
/// Escapes only what JSON requires — the quote, the backslash and the control characters below U+0020 — as Python's
/// <c>json.dumps(ensure_ascii=False)</c> does, so every other character, emoji included, is written as itself.
/// (<see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> still writes characters beyond U+FFFF as <c>\uD83D\uDE00</c>.)
/// Only for files, never for text embedded in HTML or JavaScript.
/// </summary>
public sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    /// <summary>The one instance.</summary>
    public static readonly MinimalJsonEncoder Instance = new();

    MinimalJsonEncoder() { }

    /// <inheritdoc/>
    public override int MaxOutputCharactersPerInputCharacter => 6;  // \u001F

    /// <inheritdoc/>
    public override bool WillEncode(int unicodeScalar) => unicodeScalar is < 0x20 or '"' or '\\';

    /// <inheritdoc/>
    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (int i = 0; i < textLength; i++)
        {
            char c = text[i];
            if (WillEncode(c)) return i;
            if (char.IsHighSurrogate(c) && i + 1 < textLength && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            // An unpaired surrogate goes to the encoding path, which writes U+FFFD for it as the default encoder
            // does; reported as needing no encoding, it would make the writer cut the string short.
            if (char.IsSurrogate(c)) return i;
        }
        return -1;
    }

    /// <inheritdoc/>
    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        string text = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\b' => "\\b",
            '\f' => "\\f",
            < 0x20 => $"\\u{unicodeScalar:x4}",
            _ => char.ConvertFromUtf32(unicodeScalar),
        };
        numberOfCharactersWritten = 0;
        if (text.Length > bufferLength) return false;
        for (int i = 0; i < text.Length; i++) buffer[i] = text[i];
        numberOfCharactersWritten = text.Length;
        return true;
    }
}
