namespace AlignSharp.Tensors;

/// <summary>
/// Owns the tensors created on this thread while it is the innermost open scope, and returns their
/// buffers to <see cref="BufferPool"/> when disposed — deterministically, with no finalizers.
/// A training step is one scope: activations, gradients of activations and temporaries all go back
/// at its end, so a step of a fixed shape reuses the same buffers every time.
/// <code>
/// using (var scope = new TensorScope()) { var loss = model.Loss(batch); loss.Backward(); optimizer.Step(); }
/// </code>
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly List<Tensor> _owned = new();
    private readonly TensorScope? _parent;
    private bool _disposed;

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static TensorScope? Current => _current;

    public TensorScope()
    {
        _parent = _current;
        _current = this;
    }

    internal void Register(Tensor t)
    {
        if (_disposed) throw new ObjectDisposedException(nameof(TensorScope));
        t.Scope = this;
        _owned.Add(t);
    }

    /// <summary>
    /// Moves <paramref name="t"/> (and its gradient) out of this scope into the enclosing one, or
    /// leaves it to the GC when there is none, so it survives this scope's disposal.
    /// Its history is cut: it becomes a leaf.
    /// </summary>
    public Tensor Keep(Tensor t)
    {
        if (!t.OwnsBuffer)
        {
            // A view: copy it so the result does not depend on a buffer this scope returns.
            var copy = t.Clone();
            _owned.Remove(copy);
            Adopt(copy);
            return copy;
        }
        _owned.Remove(t);
        if (t.Grad is { } g) { _owned.Remove(g); }
        t.ClearGraph();
        Adopt(t);
        if (t.Grad is { } grad) Adopt(grad);
        return t;
    }

    private void Adopt(Tensor t)
    {
        if (_parent is not null) _parent.Register(t);
        else t.Scope = null;
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("TensorScope disposed out of order: dispose inner scopes first (use `using`)");
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        _disposed = true;
        _current = _parent;
    }
}
