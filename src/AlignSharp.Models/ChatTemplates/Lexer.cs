using System.Globalization;
using System.Text;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Splits a template into tokens the way transformers' jinja2 environment does: <c>trim_blocks=True</c> (the first
/// newline after a block or comment tag is dropped), <c>lstrip_blocks=True</c> (spaces and tabs before a block or
/// comment tag at the start of a line are dropped), one trailing newline of the template dropped, and the
/// <c>{%-</c> / <c>-%}</c> markers that strip all whitespace on their side. Offsets point into the original source.
/// </summary>
internal sealed class Lexer
{
    readonly string _source;
    readonly string _origin;
    readonly string _text;     // the source after trim_blocks / lstrip_blocks
    readonly int[] _map;       // _map[i] = offset in _source of _text[i]; one extra entry for the end
    readonly List<Token> _tokens = [];
    int _pos;

    Lexer(string source, string? origin)
    {
        _source = source;
        _origin = origin ?? "chat_template";
        (_text, _map) = Preprocess(source);
    }

    /// <summary>Tokenizes <paramref name="source"/>; the list ends with an <see cref="TokenKind.End"/> token.</summary>
    public static List<Token> Tokenize(string source, string? origin)
    {
        var lexer = new Lexer(source, origin);
        lexer.Run();
        return lexer._tokens;
    }

    // ---- preprocessing: the whitespace options, applied as text rewrites like @huggingface/jinja does ----

    static (string Text, int[] Map) Preprocess(string source)
    {
        var chars = new List<(char C, int Offset)>(source.Length);
        for (int i = 0; i < source.Length; i++) chars.Add((source[i], i));
        if (chars.Count > 0 && chars[^1].C == '\n') chars.RemoveAt(chars.Count - 1);

        // lstrip_blocks: drop [ \t]* between a line start and a '{%' or '{#'.
        var stripped = new List<(char C, int Offset)>(chars.Count);
        int lineStart = 0;
        for (int i = 0; i < chars.Count; i++)
        {
            if (i == lineStart)
            {
                int j = i;
                while (j < chars.Count && (chars[j].C == ' ' || chars[j].C == '\t')) j++;
                if (j + 1 < chars.Count && chars[j].C == '{' && (chars[j + 1].C is '%' or '#' or '-')) i = j;
            }
            stripped.Add(chars[i]);
            if (chars[i].C == '\n') lineStart = i + 1;
        }

        // trim_blocks: drop the newline right after '%}' or '#}' (and '-}', as the reference does).
        var trimmed = new List<(char C, int Offset)>(stripped.Count);
        for (int i = 0; i < stripped.Count; i++)
        {
            if (stripped[i].C == '\n' && i >= 2 && stripped[i - 1].C == '}' && stripped[i - 2].C is '%' or '#' or '-') continue;
            trimmed.Add(stripped[i]);
        }

        var map = new int[trimmed.Count + 1];
        var sb = new StringBuilder(trimmed.Count);
        for (int i = 0; i < trimmed.Count; i++) { sb.Append(trimmed[i].C); map[i] = trimmed[i].Offset; }
        map[trimmed.Count] = source.Length;
        return (sb.ToString(), map);
    }

    // ---- main loop ----

    void Run()
    {
        while (_pos < _text.Length)
        {
            if (StartsWith("{#")) { LexComment(); continue; }
            if (StartsWith("{%") && TryLexRaw()) continue;
            if (StartsWith("{%")) { LexTag(TokenKind.BlockBegin, "%}", TokenKind.BlockEnd); continue; }
            if (StartsWith("{{")) { LexTag(TokenKind.VariableBegin, "}}", TokenKind.VariableEnd); continue; }
            LexText();
        }
        _tokens.Add(new Token(TokenKind.End, "", _map[_text.Length]));
    }

    void LexText()
    {
        int start = _pos;
        while (_pos < _text.Length && !(_text[_pos] == '{' && _pos + 1 < _text.Length && _text[_pos + 1] is '{' or '%' or '#')) _pos++;
        _tokens.Add(new Token(TokenKind.Text, _text[start.._pos], _map[start]));
    }

    void LexComment()
    {
        int start = _pos;
        _pos += 2;
        if (Peek() == '-') { _pos++; StripTrailingWhitespace(); }
        int close = _text.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (close < 0) throw Error(start, "unterminated comment: '{#' has no matching '#}'");
        bool stripAfter = close > _pos && _text[close - 1] == '-';
        _tokens.Add(new Token(TokenKind.Comment, "", _map[start]));
        _pos = close + 2;
        if (stripAfter) SkipWhitespace();
    }

    /// <summary>Lexes <c>{% raw %}...{% endraw %}</c> as one text token; false when the tag is not <c>raw</c>.</summary>
    bool TryLexRaw()
    {
        int p = _pos + 2;
        bool stripBefore = p < _text.Length && _text[p] == '-';
        if (stripBefore) p++;
        while (p < _text.Length && char.IsWhiteSpace(_text[p])) p++;
        if (!Matches(p, "raw")) return false;
        p += 3;
        while (p < _text.Length && char.IsWhiteSpace(_text[p])) p++;
        bool stripAfter = p < _text.Length && _text[p] == '-';
        if (stripAfter) p++;
        if (!Matches(p, "%}")) return false;
        int tagStart = _pos;
        if (stripBefore) StripTrailingWhitespace();
        p += 2;
        if (stripAfter) while (p < _text.Length && char.IsWhiteSpace(_text[p])) p++;
        int bodyStart = p;
        // Find '{%-? endraw -?%}'.
        for (int q = p; q + 1 < _text.Length; q++)
        {
            if (_text[q] != '{' || _text[q + 1] != '%') continue;
            int r = q + 2;
            bool endStripBefore = r < _text.Length && _text[r] == '-';
            if (endStripBefore) r++;
            while (r < _text.Length && char.IsWhiteSpace(_text[r])) r++;
            if (!Matches(r, "endraw")) continue;
            r += 6;
            while (r < _text.Length && char.IsWhiteSpace(_text[r])) r++;
            bool endStripAfter = r < _text.Length && _text[r] == '-';
            if (endStripAfter) r++;
            if (!Matches(r, "%}")) continue;
            string body = _text[bodyStart..q];
            if (endStripBefore) body = body.TrimEnd();
            _tokens.Add(new Token(TokenKind.Comment, "", _map[tagStart]));
            if (body.Length > 0) _tokens.Add(new Token(TokenKind.Text, body, _map[bodyStart]));
            _tokens.Add(new Token(TokenKind.Comment, "", _map[q]));
            _pos = r + 2;
            if (endStripAfter) SkipWhitespace();
            return true;
        }
        throw Error(tagStart, "unterminated raw block: '{% raw %}' has no matching '{% endraw %}'");
    }

    void LexTag(TokenKind begin, string close, TokenKind end)
    {
        int start = _pos;
        _pos += 2;
        if (Peek() == '-') { _pos++; StripTrailingWhitespace(); }
        else if (Peek() == '+') _pos++; // '{%+' only disables lstrip_blocks, which preprocessing already decided
        _tokens.Add(new Token(begin, begin == TokenKind.BlockBegin ? "{%" : "{{", _map[start]));
        int braceDepth = 0;
        while (true)
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
            if (_pos >= _text.Length)
                throw Error(start, $"unterminated tag: '{(begin == TokenKind.BlockBegin ? "{%" : "{{")}' has no matching '{close}'");
            if (_text[_pos] == '-' && Matches(_pos + 1, close) && braceDepth == 0)
            {
                _tokens.Add(new Token(end, close, _map[_pos]));
                _pos += 3;
                SkipWhitespace();
                return;
            }
            if (braceDepth == 0 && StartsWith(close))
            {
                _tokens.Add(new Token(end, close, _map[_pos]));
                _pos += 2;
                return;
            }
            if (StartsWith("{{") || StartsWith("{%"))
                throw Error(start, $"unterminated tag: '{(begin == TokenKind.BlockBegin ? "{%" : "{{")}' has no matching '{close}' before the next tag");
            char c = _text[_pos];
            if (c == '{') braceDepth++;
            else if (c == '}') braceDepth--;
            LexExpressionToken();
        }
    }

    static readonly string[] Operators = ["**", "//", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"];

    void LexExpressionToken()
    {
        int start = _pos;
        char c = _text[_pos];
        if (c == '\'' || c == '"') { _tokens.Add(new Token(TokenKind.String, LexString(c), _map[start])); return; }
        bool afterDot = _tokens.Count > 0 && _tokens[^1].IsOperator(".");
        if (char.IsAsciiDigit(c)) { LexNumber(afterDot); return; }
        if (char.IsLetter(c) || c == '_')
        {
            while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
            _tokens.Add(new Token(TokenKind.Name, _text[start.._pos], _map[start]));
            return;
        }
        foreach (var op in Operators)
        {
            if (StartsWith(op))
            {
                _pos += op.Length;
                _tokens.Add(new Token(TokenKind.Operator, op, _map[start]));
                return;
            }
        }
        throw Error(start, $"unexpected character '{c}'");
    }

    void LexNumber(bool integerOnly)
    {
        int start = _pos;
        while (_pos < _text.Length && (char.IsAsciiDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
        bool isFloat = false;
        if (!integerOnly && Peek() == '.' && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            while (_pos < _text.Length && (char.IsAsciiDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
        }
        if (!integerOnly && Peek() is 'e' or 'E')
        {
            int p = _pos + 1;
            if (p < _text.Length && _text[p] is '+' or '-') p++;
            if (p < _text.Length && char.IsAsciiDigit(_text[p]))
            {
                isFloat = true;
                _pos = p;
                while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
            }
        }
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, _text[start.._pos].Replace("_", ""), _map[start]));
    }

    /// <summary>Reads a quoted string with Python escapes (<c>\n \t \\ \' \" \xhh \uXXXX \UXXXXXXXX</c>; unknown escapes stay as written).</summary>
    string LexString(char quote)
    {
        int start = _pos;
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length) throw Error(start, $"unterminated string: missing closing {quote}");
            char c = _text[_pos++];
            if (c == quote) return sb.ToString();
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _text.Length) throw Error(start, $"unterminated string: missing closing {quote}");
            char e = _text[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case 'a': sb.Append('\a'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': break; // line continuation
                case 'x': sb.Append(HexEscape(2, start)); break;
                case 'u': sb.Append(HexEscape(4, start)); break;
                case 'U': sb.Append(HexEscape(8, start)); break;
                default: sb.Append('\\').Append(e); break;
            }
        }
    }

    string HexEscape(int digits, int stringStart)
    {
        if (_pos + digits > _text.Length || !int.TryParse(_text.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
            throw Error(_pos - 2, $"invalid \\{(digits == 2 ? 'x' : digits == 4 ? 'u' : 'U')} escape in string: expected {digits} hex digits");
        _pos += digits;
        return char.ConvertFromUtf32(code);
    }

    // ---- whitespace control ----

    void StripTrailingWhitespace()
    {
        if (_tokens.Count == 0 || _tokens[^1].Kind != TokenKind.Text) return;
        var last = _tokens[^1];
        string trimmed = last.Value.TrimEnd();
        if (trimmed.Length == 0) _tokens.RemoveAt(_tokens.Count - 1);
        else _tokens[^1] = last with { Value = trimmed };
    }

    void SkipWhitespace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
    }

    bool StartsWith(string s) => Matches(_pos, s);

    bool Matches(int at, string s) => at + s.Length <= _text.Length && string.CompareOrdinal(_text, at, s, 0, s.Length) == 0;

    char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    TemplateException Error(int textOffset, string reason)
    {
        var at = SourcePosition.At(_source, _map[Math.Min(textOffset, _text.Length)]);
        return new TemplateException(reason, at.Line, at.Column, _origin);
    }
}
