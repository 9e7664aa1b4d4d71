namespace AlignSharp.Models.ChatTemplates;

// The syntax tree. Every node remembers where it starts in the original source, so runtime errors can name line
// and column just like syntax errors do.

/// <summary>A node of the template syntax tree.</summary>
internal abstract record Node(SourcePosition Pos);

// ---- expressions ----

/// <summary>An expression node.</summary>
internal abstract record Expr(SourcePosition Pos) : Node(Pos);

/// <summary>A constant: string, number, bool or none.</summary>
internal sealed record LiteralExpr(SourcePosition Pos, object? Value) : Expr(Pos);

/// <summary>A variable reference.</summary>
internal sealed record NameExpr(SourcePosition Pos, string Name) : Expr(Pos);

/// <summary><c>[a, b]</c></summary>
internal sealed record ListExpr(SourcePosition Pos, List<Expr> Items) : Expr(Pos);

/// <summary><c>(a, b)</c> or a bare <c>a, b</c>.</summary>
internal sealed record TupleExpr(SourcePosition Pos, List<Expr> Items) : Expr(Pos);

/// <summary><c>{'k': v}</c></summary>
internal sealed record DictExpr(SourcePosition Pos, List<(Expr Key, Expr Value)> Items) : Expr(Pos);

/// <summary><c>obj.name</c>: attributes (methods) first, then items, as jinja2's <c>getattr</c>.</summary>
internal sealed record AttributeExpr(SourcePosition Pos, Expr Target, string Name) : Expr(Pos);

/// <summary><c>obj[key]</c>: items first, then attributes, as jinja2's <c>getitem</c>.</summary>
internal sealed record ItemExpr(SourcePosition Pos, Expr Target, Expr Key) : Expr(Pos);

/// <summary><c>start:stop:step</c> inside brackets; parts may be absent.</summary>
internal sealed record SliceExpr(SourcePosition Pos, Expr? Start, Expr? Stop, Expr? Step) : Expr(Pos);

/// <summary>One call argument: positional, keyword (<c>name=value</c>), <c>*list</c> or <c>**dict</c>.</summary>
internal sealed record Argument(string? Keyword, Expr Value, bool Star = false, bool DoubleStar = false);

/// <summary><c>f(args)</c></summary>
internal sealed record CallExpr(SourcePosition Pos, Expr Callee, List<Argument> Args) : Expr(Pos);

/// <summary><c>operand | name(args)</c></summary>
internal sealed record FilterExpr(SourcePosition Pos, Expr Operand, string Name, List<Argument> Args) : Expr(Pos);

/// <summary><c>operand is [not] name(args)</c></summary>
internal sealed record TestExpr(SourcePosition Pos, Expr Operand, string Name, List<Argument> Args, bool Negated) : Expr(Pos);

/// <summary><c>not x</c>, <c>-x</c>, <c>+x</c></summary>
internal sealed record UnaryExpr(SourcePosition Pos, string Operator, Expr Operand) : Expr(Pos);

/// <summary>Arithmetic, <c>~</c> concatenation, and short-circuit <c>and</c> / <c>or</c>.</summary>
internal sealed record BinaryExpr(SourcePosition Pos, string Operator, Expr Left, Expr Right) : Expr(Pos);

/// <summary>A comparison chain <c>a &lt; b &lt;= c</c>, including <c>in</c> and <c>not in</c>.</summary>
internal sealed record CompareExpr(SourcePosition Pos, Expr First, List<(string Operator, Expr Operand)> Rest) : Expr(Pos);

/// <summary><c>then if test else otherwise</c>; without <c>else</c> the result is undefined when the test fails.</summary>
internal sealed record ConditionalExpr(SourcePosition Pos, Expr Test, Expr Then, Expr? Otherwise) : Expr(Pos);

// ---- statements ----

/// <summary>Literal text.</summary>
internal sealed record TextNode(SourcePosition Pos, string Text) : Node(Pos);

/// <summary><c>{{ expr }}</c></summary>
internal sealed record OutputNode(SourcePosition Pos, Expr Value) : Node(Pos);

/// <summary><c>{% if %}...{% elif %}...{% else %}...{% endif %}</c></summary>
internal sealed record IfNode(SourcePosition Pos, List<(Expr Test, List<Node> Body)> Branches, List<Node> Else) : Node(Pos);

/// <summary><c>{% for target in iter [if filter] %}...{% else %}...{% endfor %}</c></summary>
internal sealed record ForNode(SourcePosition Pos, Expr Target, Expr Iterable, Expr? Filter, List<Node> Body, List<Node> Else) : Node(Pos);

/// <summary><c>{% set target = value %}</c> or the block form <c>{% set x %}...{% endset %}</c> (Value is null).</summary>
internal sealed record SetNode(SourcePosition Pos, Expr Target, Expr? Value, List<Node>? Body) : Node(Pos);

/// <summary>A macro parameter with an optional default.</summary>
internal sealed record Parameter(string Name, Expr? Default);

/// <summary><c>{% macro name(params) %}...{% endmacro %}</c></summary>
internal sealed record MacroNode(SourcePosition Pos, string Name, List<Parameter> Parameters, List<Node> Body) : Node(Pos);

/// <summary><c>{% call(params) macro(args) %}...{% endcall %}</c>; the body becomes <c>caller()</c>.</summary>
internal sealed record CallBlockNode(SourcePosition Pos, CallExpr Call, List<Parameter> CallerParameters, List<Node> Body) : Node(Pos);

/// <summary><c>{% filter name(args) %}...{% endfilter %}</c>: the rendered body passes through the filter chain.</summary>
internal sealed record FilterBlockNode(SourcePosition Pos, List<(string Name, List<Argument> Args, SourcePosition Pos)> Filters, List<Node> Body) : Node(Pos);

/// <summary><c>{% break %}</c></summary>
internal sealed record BreakNode(SourcePosition Pos) : Node(Pos);

/// <summary><c>{% continue %}</c></summary>
internal sealed record ContinueNode(SourcePosition Pos) : Node(Pos);

/// <summary>transformers' <c>{% generation %}...{% endgeneration %}</c>: marks assistant text for assistant-only loss.</summary>
internal sealed record GenerationNode(SourcePosition Pos, List<Node> Body) : Node(Pos);
