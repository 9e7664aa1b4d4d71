using System.Text;

namespace AlignSharp.Models.ChatTemplates;

/// <summary>
/// Walks the syntax tree and writes the output. Values follow Python semantics (<see cref="PythonSemantics"/>);
/// any failure becomes a <see cref="TemplateException"/> at the node that caused it.
/// </summary>
internal sealed class Interpreter
{
    readonly string? _origin;
    readonly StringBuilder _root = new();
    StringBuilder _out;

    /// <summary>Character ranges of the output written inside <c>{% generation %}</c> blocks.</summary>
    public List<(int Start, int End)> GenerationSpans { get; } = [];

    sealed class BreakSignal : Exception;
    sealed class ContinueSignal : Exception;

    Interpreter(string? origin)
    {
        _origin = origin;
        _out = _root;
    }

    /// <summary>Renders <paramref name="body"/> with <paramref name="variables"/> visible as globals.</summary>
    public static (string Text, List<(int Start, int End)> GenerationSpans) Render(
        List<Node> body, string source, string? origin, IEnumerable<KeyValuePair<string, object?>> variables)
    {
        var interpreter = new Interpreter(origin);
        var globals = new Scope(null);
        TemplateGlobals.Install(globals);
        foreach (var (name, value) in variables) globals.Set(name, value);
        interpreter.ExecuteBlock(body, new Scope(globals));
        return (interpreter._root.ToString(), interpreter.GenerationSpans);
    }

    // ---- statements ----

    void ExecuteBlock(List<Node> nodes, Scope scope)
    {
        foreach (var node in nodes) Execute(node, scope);
    }

    int _depth;
    long _steps;

    /// <summary>The render-time guard: counts a step and a nesting level (see <see cref="TemplateLimits"/>); pair with <see cref="Leave"/>.</summary>
    void Enter(SourcePosition pos)
    {
        Step(pos);
        // TryEnsureSufficientExecutionStack also covers threads with small stacks.
        if (++_depth > TemplateLimits.MaxRenderDepth || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            _depth--;
            throw Fail(pos, $"macro calls or expressions nest more than {TemplateLimits.MaxRenderDepth} deep (a macro that calls itself without end?)");
        }
    }

    void Leave() => _depth--;

    /// <summary>Counts one step (a loop iteration with an empty body does no other work that counts).</summary>
    void Step(SourcePosition pos)
    {
        if (++_steps > TemplateLimits.MaxSteps)
            throw Fail(pos, $"the template ran more than {TemplateLimits.MaxSteps} steps (an endless loop?)");
    }

    void Execute(Node node, Scope scope)
    {
        Enter(node.Pos);
        try { ExecuteCore(node, scope); }
        finally { Leave(); }
        if (_out.Length > TemplateLimits.MaxChars)
            throw Fail(node.Pos, $"the output grew past {TemplateLimits.MaxChars} characters (an endless loop?)");
    }

    void ExecuteCore(Node node, Scope scope)
    {
        switch (node)
        {
            case TextNode t: _out.Append(t.Text); break;
            case OutputNode o: _out.Append(PythonText.Str(Eval(o.Value, scope))); break;
            case IfNode i: ExecuteIf(i, scope); break;
            case ForNode f: ExecuteFor(f, scope); break;
            case SetNode s: ExecuteSet(s, scope); break;
            case MacroNode m: scope.Set(m.Name, MakeMacro(m.Name, m.Parameters, m.Body, scope, caller: null)); break;
            case CallBlockNode c: ExecuteCallBlock(c, scope); break;
            case FilterBlockNode f: ExecuteFilterBlock(f, scope); break;
            case GenerationNode g: ExecuteGeneration(g, scope); break;
            case BreakNode: throw new BreakSignal();
            case ContinueNode: throw new ContinueSignal();
            default: throw Fail(node.Pos, $"cannot execute {node.GetType().Name}");
        }
    }

    void ExecuteIf(IfNode node, Scope scope)
    {
        foreach (var (test, body) in node.Branches)
        {
            if (PythonSemantics.Truthy(Eval(test, scope))) { ExecuteBlock(body, scope); return; }
        }
        ExecuteBlock(node.Else, scope);
    }

    void ExecuteFor(ForNode node, Scope scope)
    {
        var source = Eval(node.Iterable, scope);
        if (source is null) throw Fail(node.Iterable.Pos, "'NoneType' object is not iterable");
        var all = Guard(node.Iterable.Pos, () => PythonSemantics.Iterate(source));
        var loopScope = new Scope(scope);
        var items = all;
        if (node.Filter is not null)
        {
            items = [];
            foreach (var item in all)
            {
                Bind(node.Target, item, loopScope);
                if (PythonSemantics.Truthy(Eval(node.Filter, loopScope))) items.Add(item);
            }
        }
        for (int i = 0; i < items.Count; i++)
        {
            Step(node.Pos);
            loopScope.Set("loop", LoopObject(items, i));
            Bind(node.Target, items[i], loopScope);
            try { ExecuteBlock(node.Body, loopScope); }
            catch (ContinueSignal) { }
            catch (BreakSignal) { break; }
        }
        if (items.Count == 0) ExecuteBlock(node.Else, loopScope);
    }

    static OrderedDictionary<string, object?> LoopObject(List<object?> items, int i)
    {
        int n = items.Count;
        return new OrderedDictionary<string, object?>
        {
            ["index"] = (long)(i + 1),
            ["index0"] = (long)i,
            ["revindex"] = (long)(n - i),
            ["revindex0"] = (long)(n - i - 1),
            ["first"] = i == 0,
            ["last"] = i == n - 1,
            ["length"] = (long)n,
            ["depth"] = 1L,
            ["depth0"] = 0L,
            ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
            ["nextitem"] = i < n - 1 ? items[i + 1] : Undefined.Instance,
            ["cycle"] = new TemplateFunction("loop.cycle", args =>
            {
                if (args.Positional.Count == 0) throw new InvalidOperationException("loop.cycle() needs at least one argument");
                return args.Positional[i % args.Positional.Count];
            }),
        };
    }

    /// <summary>Binds a loop or set target: a name, or a tuple of names that unpacks a sequence.</summary>
    void Bind(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr n: scope.Set(n.Name, value); break;
            case TupleExpr t:
            {
                var items = Guard(t.Pos, () => PythonSemantics.Iterate(value));
                if (items.Count != t.Items.Count)
                    throw Fail(t.Pos, $"cannot unpack {items.Count} values into {t.Items.Count} names");
                for (int i = 0; i < items.Count; i++) Bind(t.Items[i], items[i], scope);
                break;
            }
            case AttributeExpr { Target: NameExpr owner } a:
            {
                if (scope.Lookup(owner.Name) is not TemplateNamespace ns)
                    throw Fail(a.Pos, $"cannot assign attribute '{a.Name}' on '{owner.Name}': only namespace() objects accept attribute assignment");
                ns.Attributes[a.Name] = value;
                break;
            }
            default: throw Fail(target.Pos, "cannot assign to this expression");
        }
    }

    void ExecuteSet(SetNode node, Scope scope)
    {
        object? value = node.Value is not null ? Eval(node.Value, scope) : Capture(() => ExecuteBlock(node.Body!, scope));
        Bind(node.Target, value, scope);
    }

    void ExecuteGeneration(GenerationNode node, Scope scope)
    {
        int start = _out.Length;
        ExecuteBlock(node.Body, scope);
        // Spans are only meaningful in the final text, not inside a captured macro or set block.
        if (ReferenceEquals(_out, _root) && _out.Length > start) GenerationSpans.Add((start, _out.Length));
    }

    void ExecuteCallBlock(CallBlockNode node, Scope scope)
    {
        var caller = MakeMacro("caller", node.CallerParameters, node.Body, scope, caller: null);
        var callee = Eval(node.Call.Callee, scope);
        if (callee is not TemplateFunction f) throw Fail(node.Call.Pos, "'{% call %}' needs a macro");
        var args = EvalArguments(node.Call.Args, scope);
        args.Keywords["caller"] = caller;
        _out.Append(PythonText.Str(Guard(node.Call.Pos, () => f.Invoke(args))));
    }

    void ExecuteFilterBlock(FilterBlockNode node, Scope scope)
    {
        object? value = Capture(() => ExecuteBlock(node.Body, scope));
        foreach (var (name, args, pos) in node.Filters) value = ApplyFilter(name, value, args, pos, scope);
        _out.Append(PythonText.Str(value));
    }

    string Capture(Action render)
    {
        var saved = _out;
        _out = new StringBuilder();
        try { render(); return _out.ToString(); }
        finally { _out = saved; }
    }

    TemplateFunction MakeMacro(string name, List<Parameter> parameters, List<Node> body, Scope definition, TemplateFunction? caller)
    {
        return new TemplateFunction(name, args =>
        {
            var scope = new Scope(definition);
            var extraKeywords = new OrderedDictionary<string, object?>();
            foreach (var (k, v) in args.Keywords) extraKeywords[k] = v;
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                if (i < args.Positional.Count) scope.Set(p.Name, args.Positional[i]);
                else if (extraKeywords.Remove(p.Name, out var v)) scope.Set(p.Name, v);
                else scope.Set(p.Name, p.Default is null ? Undefined.Instance : Eval(p.Default, scope));
            }
            if (extraKeywords.Remove("caller", out var callerValue)) scope.Set("caller", callerValue);
            scope.Set("varargs", args.Positional.Skip(parameters.Count).ToList());
            scope.Set("kwargs", extraKeywords);
            return Capture(() => ExecuteBlock(body, scope));
        });
    }

    // ---- expressions ----

    /// <summary>Evaluates an expression; helper failures are re-thrown at the expression's position.</summary>
    public object? Eval(Expr expr, Scope scope)
    {
        Enter(expr.Pos);
        try
        {
            var value = EvalCore(expr, scope);
            if (value is string s) TemplateLimits.CheckChars(s.Length, "this expression");
            return value;
        }
        catch (Exception ex) when (ex is not TemplateException and not BreakSignal and not ContinueSignal)
        {
            throw Fail(expr.Pos, ex.Message, ex);
        }
        finally { Leave(); }
    }

    object? EvalCore(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case LiteralExpr l: return l.Value;
            case NameExpr n: return scope.Lookup(n.Name);
            case ListExpr l: return l.Items.Select(x => Eval(x, scope)).ToList();
            case TupleExpr t: return new TemplateTuple(t.Items.Select(x => Eval(x, scope)).ToList());
            case DictExpr d:
            {
                var dict = new OrderedDictionary<string, object?>();
                foreach (var (k, v) in d.Items)
                {
                    if (Eval(k, scope) is not string key) throw Fail(k.Pos, "dict keys must be strings in chat templates");
                    dict[key] = Eval(v, scope);
                }
                return dict;
            }
            case AttributeExpr a: return Members.GetAttribute(Eval(a.Target, scope), a.Name);
            case ItemExpr { Key: SliceExpr s } i: return EvalSlice(Eval(i.Target, scope), s, scope);
            case ItemExpr i: return Members.GetItem(Eval(i.Target, scope), Eval(i.Key, scope));
            case CallExpr c: return EvalCall(c, scope);
            case FilterExpr f: return ApplyFilter(f.Name, Eval(f.Operand, scope), f.Args, f.Pos, scope);
            case TestExpr t:
            {
                var operand = Eval(t.Operand, scope);
                var args = EvalArguments(t.Args, scope);
                bool result = TemplateTestFunctions.Run(t.Name, operand, args);
                return t.Negated ? !result : result;
            }
            case UnaryExpr u:
            {
                var v = Eval(u.Operand, scope);
                return u.Operator switch
                {
                    "not" => !PythonSemantics.Truthy(v),
                    "-" => Operators.Negate(v),
                    _ => Operators.Plus(v),
                };
            }
            case BinaryExpr { Operator: "and" } b:
            {
                var left = Eval(b.Left, scope);
                return PythonSemantics.Truthy(left) ? Eval(b.Right, scope) : left;
            }
            case BinaryExpr { Operator: "or" } b:
            {
                var left = Eval(b.Left, scope);
                return PythonSemantics.Truthy(left) ? left : Eval(b.Right, scope);
            }
            case BinaryExpr b: return Operators.Binary(b.Operator, Eval(b.Left, scope), Eval(b.Right, scope));
            case CompareExpr c:
            {
                var left = Eval(c.First, scope);
                foreach (var (op, operandExpr) in c.Rest)
                {
                    var right = Eval(operandExpr, scope);
                    if (!Operators.Compare(op, left, right)) return false;
                    left = right;
                }
                return true;
            }
            case ConditionalExpr c:
                return PythonSemantics.Truthy(Eval(c.Test, scope)) ? Eval(c.Then, scope) : c.Otherwise is null ? Undefined.Instance : Eval(c.Otherwise, scope);
            case SliceExpr s: throw Fail(s.Pos, "a slice is only valid inside brackets");
            default: throw Fail(expr.Pos, $"cannot evaluate {expr.GetType().Name}");
        }
    }

    object? EvalSlice(object? target, SliceExpr s, Scope scope)
    {
        long? Part(Expr? e)
        {
            if (e is null) return null;
            return Eval(e, scope) switch
            {
                null or Undefined => null,
                long l => l,
                bool b => b ? 1 : 0,
                var v => throw Fail(e.Pos, $"slice indices must be integers or None, not {PythonSemantics.TypeName(v)}"),
            };
        }
        return Members.Slice(target, Part(s.Start), Part(s.Stop), Part(s.Step));
    }

    object? EvalCall(CallExpr call, Scope scope)
    {
        var callee = Eval(call.Callee, scope);
        if (callee is not TemplateFunction f)
        {
            string what = call.Callee switch
            {
                NameExpr n when callee is Undefined => $"'{n.Name}' is undefined",
                AttributeExpr a when callee is Undefined => $"'{PythonSemantics.TypeName(Eval(a.Target, scope))}' object has no method '{a.Name}'",
                _ => $"'{PythonSemantics.TypeName(callee)}' object is not callable",
            };
            throw Fail(call.Pos, what);
        }
        var args = EvalArguments(call.Args, scope);
        try { return f.Invoke(args); }
        catch (RaiseException raise)
        {
            throw new TemplateException(raise.Message, call.Pos.Line, call.Pos.Column, _origin, raisedByTemplate: true);
        }
    }

    CallArguments EvalArguments(List<Argument> args, Scope scope)
    {
        var positional = new List<object?>();
        var keywords = new OrderedDictionary<string, object?>();
        foreach (var a in args)
        {
            var value = Eval(a.Value, scope);
            if (a.Star) positional.AddRange(PythonSemantics.Iterate(value));
            else if (a.DoubleStar)
            {
                if (value is not OrderedDictionary<string, object?> d) throw Fail(a.Value.Pos, "argument after ** must be a mapping");
                foreach (var (k, v) in d) keywords[k] = v;
            }
            else if (a.Keyword is not null) keywords[a.Keyword] = value;
            else positional.Add(value);
        }
        return new CallArguments(positional, keywords);
    }

    object? ApplyFilter(string name, object? value, List<Argument> argExprs, SourcePosition pos, Scope scope)
    {
        if (!TemplateFilters.Exists(name))
            throw Fail(pos, $"unknown filter '{name}' (supported: {string.Join(", ", TemplateFilters.Names)})");
        var args = EvalArguments(argExprs, scope);
        return Guard(pos, () => TemplateFilters.Apply(name, value, args));
    }

    T Guard<T>(SourcePosition pos, Func<T> action)
    {
        try { return action(); }
        catch (Exception ex) when (ex is not TemplateException and not BreakSignal and not ContinueSignal and not RaiseException)
        {
            throw Fail(pos, ex.Message, ex);
        }
    }

    TemplateException Fail(SourcePosition pos, string reason, Exception? inner = null) =>
        new(reason, pos.Line, pos.Column, _origin, inner: inner);
}

/// <summary>Thrown by the <c>raise_exception</c> global; the interpreter turns it into a <see cref="TemplateException"/>.</summary>
internal sealed class RaiseException(string message) : Exception(message);
