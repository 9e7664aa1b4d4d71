using System.Globalization;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Recursive-descent parser following jinja2's grammar and precedence (loosest first):
/// conditional, <c>or</c>, <c>and</c>, <c>not</c>, comparisons/<c>in</c>, <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>,
/// unary <c>- +</c>, then postfix (<c>.attr</c>, <c>[key]</c>, calls) with filters <c>|f</c> and tests <c>is t</c>.
/// </summary>
internal sealed class Parser
{
    readonly List<Token> _tokens;
    readonly string _source;
    readonly string _origin;
    int _index;

    // Tags that close or split a block; meeting one where it does not belong is an error that names what was expected.
    static readonly HashSet<string> BlockKeywords = ["endif", "elif", "else", "endfor", "endset", "endmacro", "endcall", "endfilter", "endgeneration", "endraw"];

    Parser(List<Token> tokens, string source, string? origin)
    {
        _tokens = tokens;
        _source = source;
        _origin = origin ?? "chat_template";
    }

    /// <summary>Parses a whole template into its top-level nodes.</summary>
    public static List<Node> Parse(string source, string? origin)
    {
        var parser = new Parser(Lexer.Tokenize(source, origin), source, origin);
        return parser.ParseBody([], null);
    }

    Token Current => _tokens[_index];
    Token PeekAt(int ahead) => _tokens[Math.Min(_index + ahead, _tokens.Count - 1)];
    Token Next() => _tokens[_index++];
    SourcePosition PosOf(Token t) => SourcePosition.At(_source, _lineStarts ??= SourcePosition.LineStarts(_source), t.Offset);
    int[]? _lineStarts;

    TemplateException Error(Token at, string reason)
    {
        var p = PosOf(at);
        return new TemplateException(reason, p.Line, p.Column, _origin);
    }

    // ---- statements ----

    /// <summary>
    /// Parses nodes until a <c>{% tag %}</c> with a name in <paramref name="endTags"/> (left unconsumed, positioned at its name).
    /// </summary>
    List<Node> ParseBody(string[] endTags, (string Tag, Token At)? opened)
    {
        var body = new List<Node>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.End:
                    if (opened is { } o)
                    {
                        var p = PosOf(o.At);
                        throw Error(t, $"unexpected end of template: the '{o.Tag}' block opened at {p.Line}:{p.Column} needs {Expected(endTags)}");
                    }
                    return body;
                case TokenKind.Text: Next(); body.Add(new TextNode(PosOf(t), t.Value)); break;
                case TokenKind.Comment: Next(); break;
                case TokenKind.VariableBegin:
                    Next();
                    var value = ParseTuple();
                    Expect(TokenKind.VariableEnd, "'}}'");
                    body.Add(new OutputNode(PosOf(t), value));
                    break;
                case TokenKind.BlockBegin:
                    var name = PeekAt(1);
                    if (name.Kind == TokenKind.Name && endTags.Contains(name.Value)) { Next(); return body; }
                    if (name.Kind == TokenKind.Name && BlockKeywords.Contains(name.Value))
                        throw Error(name, endTags.Length == 0 ? $"unexpected '{name.Value}': no open block to close" : $"unexpected '{name.Value}', expected {Expected(endTags.Where(x => x.StartsWith("end", StringComparison.Ordinal)).ToArray())}");
                    Next();
                    body.Add(ParseStatement(t));
                    break;
                default:
                    throw Error(t, $"unexpected {t.Describe()}");
            }
        }
    }

    static string Expected(string[] tags) => string.Join(" or ", tags.Select(x => $"'{x}'"));

    Node ParseStatement(Token open)
    {
        Nest(open);
        try { return ParseStatementCore(open); }
        finally { _nesting--; }
    }

    Node ParseStatementCore(Token open)
    {
        var nameToken = Current;
        if (nameToken.Kind != TokenKind.Name) throw Error(nameToken, $"expected a tag name after '{{%', got {nameToken.Describe()}");
        Next();
        var pos = PosOf(open);
        switch (nameToken.Value)
        {
            case "if": return ParseIf(pos, nameToken);
            case "for": return ParseFor(pos, nameToken);
            case "set": return ParseSet(pos, nameToken);
            case "macro": return ParseMacro(pos, nameToken);
            case "call": return ParseCallBlock(pos, nameToken);
            case "filter": return ParseFilterBlock(pos, nameToken);
            case "generation":
            {
                ExpectBlockEnd();
                var body = ParseBody(["endgeneration"], ("generation", nameToken));
                EndTag();
                return new GenerationNode(pos, body);
            }
            case "break": ExpectBlockEnd(); return new BreakNode(pos);
            case "continue": ExpectBlockEnd(); return new ContinueNode(pos);
            default:
                throw Error(nameToken, $"unknown tag '{nameToken.Value}' (supported: if, for, set, macro, call, filter, generation, break, continue, raw)");
        }
    }

    /// <summary>Consumes the end tag's name (the parser stands on it after <see cref="ParseBody"/>) and its '%}'.</summary>
    void EndTag()
    {
        Next();
        ExpectBlockEnd();
    }

    Node ParseIf(SourcePosition pos, Token opened)
    {
        var branches = new List<(Expr, List<Node>)>();
        var elseBody = new List<Node>();
        var test = ParseExpression();
        ExpectBlockEnd();
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"], ("if", opened));
            branches.Add((test, body));
            var tag = Next();
            if (tag.Value == "elif") { test = ParseExpression(); ExpectBlockEnd(); continue; }
            if (tag.Value == "else")
            {
                ExpectBlockEnd();
                elseBody = ParseBody(["endif"], ("if", opened));
                EndTag();
            }
            else ExpectBlockEnd();
            return new IfNode(pos, branches, elseBody);
        }
    }

    Node ParseFor(SourcePosition pos, Token opened)
    {
        var target = ParseAssignTarget(allowAttribute: false);
        if (!Current.IsName("in")) throw Error(Current, $"expected 'in' after the loop variable, got {Current.Describe()}");
        Next();
        var iterable = ParseTuple(withConditional: false);
        Expr? filter = null;
        if (Current.IsName("if")) { Next(); filter = ParseExpression(); }
        if (Current.IsName("recursive")) throw Error(Current, "recursive for loops are not supported");
        ExpectBlockEnd();
        var body = ParseBody(["endfor", "else"], ("for", opened));
        var elseBody = new List<Node>();
        if (Next().Value == "else")
        {
            ExpectBlockEnd();
            elseBody = ParseBody(["endfor"], ("for", opened));
            Next();
        }
        ExpectBlockEnd();
        return new ForNode(pos, target, iterable, filter, body, elseBody);
    }

    Node ParseSet(SourcePosition pos, Token opened)
    {
        var target = ParseAssignTarget(allowAttribute: true);
        if (Current.IsOperator("="))
        {
            Next();
            var value = ParseTuple();
            ExpectBlockEnd();
            return new SetNode(pos, target, value, null);
        }
        if (target is not NameExpr) throw Error(Current, "block assignment '{% set x %}...{% endset %}' needs a single variable name");
        ExpectBlockEnd();
        var body = ParseBody(["endset"], ("set", opened));
        EndTag();
        return new SetNode(pos, target, null, body);
    }

    Node ParseMacro(SourcePosition pos, Token opened)
    {
        var name = Expect(TokenKind.Name, "a macro name");
        var parameters = ParseParameters();
        ExpectBlockEnd();
        var body = ParseBody(["endmacro"], ("macro", opened));
        EndTag();
        return new MacroNode(pos, name.Value, parameters, body);
    }

    Node ParseCallBlock(SourcePosition pos, Token opened)
    {
        var parameters = Current.IsOperator("(") ? ParseParameters() : [];
        var expr = ParseExpression();
        if (expr is not CallExpr call) throw Error(Current, "'{% call %}' needs a macro call, e.g. {% call render(x) %}");
        ExpectBlockEnd();
        var body = ParseBody(["endcall"], ("call", opened));
        EndTag();
        return new CallBlockNode(pos, call, parameters, body);
    }

    Node ParseFilterBlock(SourcePosition pos, Token opened)
    {
        var filters = new List<(string, List<Argument>, SourcePosition)>();
        do
        {
            if (Current.IsOperator("|")) Next();
            var name = ParseDottedName();
            var args = Current.IsOperator("(") ? ParseCallArguments() : [];
            filters.Add((name.Name, args, name.Pos));
        } while (Current.IsOperator("|"));
        ExpectBlockEnd();
        var body = ParseBody(["endfilter"], ("filter", opened));
        EndTag();
        return new FilterBlockNode(pos, filters, body);
    }

    List<Parameter> ParseParameters()
    {
        Expect(TokenKind.Operator, "'('", "(");
        var parameters = new List<Parameter>();
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, "',' between parameters", ",");
            if (Current.IsOperator(")")) break;
            var name = Expect(TokenKind.Name, "a parameter name");
            Expr? fallback = null;
            if (Current.IsOperator("=")) { Next(); fallback = ParseExpression(); }
            else if (parameters.Count > 0 && parameters[^1].Default is not null) throw Error(name, $"parameter '{name.Value}' without a default follows one with a default");
            parameters.Add(new Parameter(name.Value, fallback));
        }
        Next();
        return parameters;
    }

    /// <summary>A name, a tuple of names (for loops, set), or <c>ns.attr</c> (set only).</summary>
    Expr ParseAssignTarget(bool allowAttribute)
    {
        var start = Current;
        var items = new List<Expr>();
        bool parenthesised = Current.IsOperator("(");
        if (parenthesised) Next();
        while (true)
        {
            var name = Expect(TokenKind.Name, "a variable name");
            Expr target = new NameExpr(PosOf(name), name.Value);
            if (allowAttribute && Current.IsOperator("."))
            {
                Next();
                var attr = Expect(TokenKind.Name, "an attribute name");
                target = new AttributeExpr(PosOf(name), target, attr.Value);
            }
            items.Add(target);
            if (!Current.IsOperator(",")) break;
            Next();
            if (!parenthesised && Current.Kind != TokenKind.Name) break;
            if (parenthesised && Current.IsOperator(")")) break;
        }
        if (parenthesised) Expect(TokenKind.Operator, "')'", ")");
        return items.Count == 1 && !parenthesised ? items[0] : new TupleExpr(PosOf(start), items);
    }

    // ---- expressions ----

    /// <summary>An expression, or a bare tuple <c>a, b</c>.</summary>
    Expr ParseTuple(bool withConditional = true)
    {
        var start = Current;
        var first = withConditional ? ParseExpression() : ParseOr();
        if (!Current.IsOperator(",")) return first;
        var items = new List<Expr> { first };
        while (Current.IsOperator(","))
        {
            Next();
            if (Current.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd || Current.IsOperator(")") || Current.IsName("if")) break;
            items.Add(withConditional ? ParseExpression() : ParseOr());
        }
        return new TupleExpr(PosOf(start), items);
    }

    int _nesting;

    /// <summary>Counts one level of source nesting; deeper than <see cref="TemplateLimits.MaxNesting"/> is an error, not a stack overflow.</summary>
    void Nest(Token at)
    {
        if (++_nesting > TemplateLimits.MaxNesting)
            throw Error(at, $"nested more than {TemplateLimits.MaxNesting} levels deep (expressions, brackets or blocks)");
    }

    Expr ParseExpression()
    {
        Nest(Current);
        try { return ParseExpressionCore(); }
        finally { _nesting--; }
    }

    Expr ParseExpressionCore()
    {
        var start = Current;
        var expr = ParseOr();
        while (Current.IsName("if"))
        {
            Next();
            var test = ParseOr();
            Expr? otherwise = null;
            if (Current.IsName("else")) { Next(); otherwise = ParseExpression(); }
            expr = new ConditionalExpr(PosOf(start), test, expr, otherwise);
        }
        return expr;
    }

    Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or")) { var op = Next(); left = new BinaryExpr(PosOf(op), "or", left, ParseAnd()); }
        return left;
    }

    Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and")) { var op = Next(); left = new BinaryExpr(PosOf(op), "and", left, ParseNot()); }
        return left;
    }

    Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var op = Next();
            Nest(op);
            try { return new UnaryExpr(PosOf(op), "not", ParseNot()); }
            finally { _nesting--; }
        }
        return ParseCompare();
    }

    static readonly HashSet<string> ComparisonOperators = ["==", "!=", "<", "<=", ">", ">="];

    Expr ParseCompare()
    {
        var start = Current;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && ComparisonOperators.Contains(Current.Value)) { var op = Next().Value; rest.Add((op, ParseMath1())); }
            else if (Current.IsName("in")) { Next(); rest.Add(("in", ParseMath1())); }
            else if (Current.IsName("not") && PeekAt(1).IsName("in")) { Next(); Next(); rest.Add(("not in", ParseMath1())); }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(PosOf(start), first, rest);
    }

    Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-")) { var op = Next(); left = new BinaryExpr(PosOf(op), op.Value, left, ParseConcat()); }
        return left;
    }

    Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~")) { var op = Next(); left = new BinaryExpr(PosOf(op), "~", left, ParseMath2()); }
        return left;
    }

    Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(PosOf(op), op.Value, left, ParsePow());
        }
        return left;
    }

    Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**")) { var op = Next(); left = new BinaryExpr(PosOf(op), "**", left, ParseUnary(withFilter: true)); }
        return left;
    }

    Expr ParseUnary(bool withFilter)
    {
        Expr node;
        if (Current.IsOperator("-") || Current.IsOperator("+"))
        {
            var op = Next();
            Nest(op);
            try { node = new UnaryExpr(PosOf(op), op.Value, ParseUnary(withFilter: false)); }
            finally { _nesting--; }
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterAndTests(node);
        return node;
    }

    /// <summary>An integer literal; Python's are unbounded, ours are 64-bit, so a longer one is an error rather than an overflow.</summary>
    long IntegerLiteral(Token t) =>
        long.TryParse(t.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value
        : throw Error(t, $"integer {t.Value} does not fit in 64 bits");

    Expr ParsePrimary()
    {
        var t = Next();
        var pos = PosOf(t);
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(pos, true),
                    "false" or "False" => new LiteralExpr(pos, false),
                    "none" or "None" => new LiteralExpr(pos, null),
                    _ => new NameExpr(pos, t.Value),
                };
            case TokenKind.String:
            {
                string s = t.Value;
                while (Current.Kind == TokenKind.String) s += Next().Value; // adjacent literals concatenate
                return new LiteralExpr(pos, s);
            }
            case TokenKind.Integer:
                return new LiteralExpr(pos, IntegerLiteral(t));
            case TokenKind.Float:
                return new LiteralExpr(pos, double.Parse(t.Value, CultureInfo.InvariantCulture));
            case TokenKind.Operator when t.Value == "(":
            {
                if (Current.IsOperator(")")) { Next(); return new TupleExpr(pos, []); }
                var inner = ParseTuple();
                if (inner is TupleExpr tuple) inner = tuple with { Pos = pos };
                Expect(TokenKind.Operator, "')'", ")");
                return inner;
            }
            case TokenKind.Operator when t.Value == "[":
            {
                var items = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, "',' or ']' in list", ",");
                    if (Current.IsOperator("]")) break;
                    items.Add(ParseExpression());
                }
                Next();
                return new ListExpr(pos, items);
            }
            case TokenKind.Operator when t.Value == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, "',' or '}' in dict", ",");
                    if (Current.IsOperator("}")) break;
                    var key = ParseExpression();
                    Expect(TokenKind.Operator, "':' after dict key", ":");
                    items.Add((key, ParseExpression()));
                }
                Next();
                return new DictExpr(pos, items);
            }
            default:
                throw Error(t, $"unexpected {t.Describe()}, expected an expression");
        }
    }

    Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                Next();
                var attr = Next();
                if (attr.Kind == TokenKind.Name) node = new AttributeExpr(PosOf(t), node, attr.Value);
                else if (attr.Kind == TokenKind.Integer) node = new ItemExpr(PosOf(t), node, new LiteralExpr(PosOf(attr), IntegerLiteral(attr)));
                else throw Error(attr, $"expected an attribute name after '.', got {attr.Describe()}");
            }
            else if (t.IsOperator("["))
            {
                Next();
                node = new ItemExpr(PosOf(t), node, ParseSubscript());
                Expect(TokenKind.Operator, "']'", "]");
            }
            else if (t.IsOperator("("))
            {
                node = new CallExpr(PosOf(t), node, ParseCallArguments());
            }
            else return node;
        }
    }

    Expr ParseSubscript()
    {
        var start = Current;
        Expr? first = null;
        if (!Current.IsOperator(":")) 
        {
            first = ParseExpression();
            if (!Current.IsOperator(":")) return first;
        }
        Next(); // ':'
        Expr? stop = null, step = null;
        if (!Current.IsOperator("]") && !Current.IsOperator(":")) stop = ParseExpression();
        if (Current.IsOperator(":"))
        {
            Next();
            if (!Current.IsOperator("]")) step = ParseExpression();
        }
        return new SliceExpr(PosOf(start), first, stop, step);
    }

    List<Argument> ParseCallArguments()
    {
        Expect(TokenKind.Operator, "'('", "(");
        var args = new List<Argument>();
        while (!Current.IsOperator(")"))
        {
            if (args.Count > 0) Expect(TokenKind.Operator, "',' between arguments", ",");
            if (Current.IsOperator(")")) break;
            if (Current.IsOperator("*")) { Next(); args.Add(new Argument(null, ParseExpression(), Star: true)); }
            else if (Current.IsOperator("**")) { Next(); args.Add(new Argument(null, ParseExpression(), DoubleStar: true)); }
            else if (Current.Kind == TokenKind.Name && PeekAt(1).IsOperator("="))
            {
                var key = Next().Value;
                Next();
                args.Add(new Argument(key, ParseExpression()));
            }
            else
            {
                if (args.Any(a => a.Keyword is not null)) throw Error(Current, "positional argument follows keyword argument");
                args.Add(new Argument(null, ParseExpression()));
            }
        }
        Next();
        return args;
    }

    Expr ParseFilterAndTests(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                Next();
                var name = ParseDottedName();
                var args = Current.IsOperator("(") ? ParseCallArguments() : [];
                node = new FilterExpr(name.Pos, node, name.Name, args);
            }
            else if (Current.IsName("is"))
            {
                Next();
                bool negated = false;
                if (Current.IsName("not")) { Next(); negated = true; }
                var name = ParseDottedName();
                var args = new List<Argument>();
                if (Current.IsOperator("(")) args = ParseCallArguments();
                else if (StartsTestArgument(Current))
                {
                    // jinja2 allows one bare argument: `x is divisibleby 3`, `x is equalto 'a'`.
                    args.Add(new Argument(null, ParsePostfix(ParsePrimary())));
                }
                node = new TestExpr(name.Pos, node, name.Name, args, negated);
            }
            else if (Current.IsOperator("("))
            {
                node = new CallExpr(PosOf(Current), node, ParseCallArguments());
            }
            else return node;
        }
    }

    static bool StartsTestArgument(Token t) =>
        t.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
        || (t.Kind == TokenKind.Name && t.Value is not ("else" or "or" or "and" or "is" or "if" or "in" or "not"))
        || t.IsOperator("[") || t.IsOperator("{");

    (string Name, SourcePosition Pos) ParseDottedName()
    {
        var first = Expect(TokenKind.Name, "a filter or test name");
        string name = first.Value;
        while (Current.IsOperator(".") && PeekAt(1).Kind == TokenKind.Name) { Next(); name += "." + Next().Value; }
        return (name, PosOf(first));
    }

    // ---- token helpers ----

    void ExpectBlockEnd()
    {
        if (Current.Kind != TokenKind.BlockEnd) throw Error(Current, $"unexpected {Current.Describe()}, expected '%}}'");
        Next();
    }

    Token Expect(TokenKind kind, string what, string? value = null)
    {
        var t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value)) throw Error(t, $"unexpected {t.Describe()}, expected {what}");
        return Next();
    }
}
