namespace AlignSharp.Models.ChatTemplates;

/// <summary>Kinds of lexical tokens of a Jinja template.</summary>
internal enum TokenKind
{
    /// <summary>Literal template text, emitted as is.</summary>
    Text,
    /// <summary>A <c>{# ... #}</c> comment; kept only as a boundary for whitespace control.</summary>
    Comment,
    /// <summary><c>{%</c></summary>
    BlockBegin,
    /// <summary><c>%}</c></summary>
    BlockEnd,
    /// <summary><c>{{</c></summary>
    VariableBegin,
    /// <summary><c>}}</c></summary>
    VariableEnd,
    /// <summary>An identifier or keyword.</summary>
    Name,
    /// <summary>A quoted string, escapes already resolved.</summary>
    String,
    /// <summary>An integer literal.</summary>
    Integer,
    /// <summary>A float literal.</summary>
    Float,
    /// <summary>An operator or punctuation: <c>+ - * / // % ** ~ == != &lt; &lt;= &gt; &gt;= = . , : | ( ) [ ] { }</c>.</summary>
    Operator,
    /// <summary>End of input.</summary>
    End,
}

/// <summary>One token; <paramref name="Offset"/> is its character offset in the original (unprocessed) source.</summary>
internal sealed record Token(TokenKind Kind, string Value, int Offset)
{
    /// <summary>True when this is the operator <paramref name="op"/>.</summary>
    public bool IsOperator(string op) => Kind == TokenKind.Operator && Value == op;

    /// <summary>True when this is the name (or keyword) <paramref name="name"/>.</summary>
    public bool IsName(string name) => Kind == TokenKind.Name && Value == name;

    /// <summary>How the token reads in an error message.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.Text => "text",
        TokenKind.String => $"string '{Value}'",
        TokenKind.BlockBegin => "'{%'",
        TokenKind.BlockEnd => "'%}'",
        TokenKind.VariableBegin => "'{{'",
        TokenKind.VariableEnd => "'}}'",
        _ => $"'{Value}'",
    };
}
