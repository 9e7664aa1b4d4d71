using System.Runtime.CompilerServices;
using System.Text;

namespace AlignSharp.Tensors;

/// <summary>
/// A float32 tensor: a shape over a contiguous row-major range of a buffer, plus what reverse-mode
/// autograd needs (the op that produced it, its inputs, its backward rule and its gradient).
/// Views (reshape, leading-axis slices, last-two-axes transpose) share the buffer of their base.
/// Buffers come from <see cref="BufferPool"/> and go back when the owning <see cref="TensorScope"/>
/// (or <see cref="Dispose"/>) ends; tensors created outside a scope are left to the GC.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private float[]? _data;
    private readonly int[] _shape;

    internal int Offset { get; }
    internal bool OwnsBuffer { get; private set; }
    internal TensorScope? Scope { get; set; }

    /// <summary>
    /// Set on a view that transposes the last two axes: the shape is the transposed one but the
    /// memory is still laid out as the base. Only matmul reads such a view directly; every other op
    /// sees it through <see cref="Contiguous"/>.
    /// </summary>
    public bool IsTransposedView { get; }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>Whether gradients flow to this tensor.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient (same shape), or null before the first backward pass reaches it.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>Name of the op that produced this tensor (for error messages and debugging).</summary>
    public string? Op { get; private set; }

    internal Tensor[]? Inputs { get; private set; }
    internal Action? BackwardRule { get; private set; }

    /// <summary>A tensor with no backward rule: a parameter, an input or a detached value.</summary>
    public bool IsLeaf => BackwardRule is null;

    internal Tensor(float[] data, int offset, int[] shape, bool ownsBuffer, bool transposedView = false)
    {
        _data = data;
        Offset = offset;
        _shape = shape;
        Length = ShapeUtil.Count(shape);
        OwnsBuffer = ownsBuffer;
        IsTransposedView = transposedView;
        if (offset + Length > data.Length) throw new ArgumentException($"a tensor of shape {ShapeUtil.Format(shape)} does not fit its buffer");
    }

    /// <summary>The shape (do not modify the returned span).</summary>
    public ReadOnlySpan<int> Shape => _shape;
    internal int[] ShapeArray => _shape;
    public int Rank => _shape.Length;

    /// <summary>Size of axis <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[axis < 0 ? _shape.Length + axis : axis];

    internal float[] Data => _data ?? throw new ObjectDisposedException(nameof(Tensor), $"tensor [{ShapeUtil.Format(_shape)}] from op '{Op ?? "leaf"}' was used after its scope was disposed");

    /// <summary>The elements in storage order.</summary>
    public Span<float> Span => new(Data, Offset, Length);

    internal bool IsDisposed => _data is null;

    // ---- creation -------------------------------------------------------------------------

    /// <summary>A tensor with pooled, uninitialised storage, registered with the current scope.</summary>
    internal static Tensor Uninitialized(int[] shape) => Pooled(shape, zero: false);

    public static Tensor Zeros(params int[] shape) => Pooled((int[])shape.Clone(), zero: true);

    private static Tensor Pooled(int[] shape, bool zero)
    {
        ShapeUtil.Validate(shape);
        var t = new Tensor(BufferPool.Rent(ShapeUtil.Count(shape), zero), 0, shape, ownsBuffer: true);
        TensorScope.Current?.Register(t);
        return t;
    }

    public static Tensor Full(float value, params int[] shape)
    {
        var t = Pooled((int[])shape.Clone(), zero: false);
        t.Span.Fill(value);
        return t;
    }

    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    public static Tensor Scalar(float value) => Full(value);

    /// <summary>Copies <paramref name="values"/> into a new tensor of the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        if (ShapeUtil.Count(shape) != values.Length)
            throw new ArgumentException($"FromArray: {values.Length} values cannot fill shape {ShapeUtil.Format(shape)}");
        var t = Pooled((int[])shape.Clone(), zero: false);
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>Normal samples with the given standard deviation.</summary>
    public static Tensor Randn(Rng rng, float std, params int[] shape)
    {
        var t = Pooled((int[])shape.Clone(), zero: false);
        rng.FillNormal(t.Span, 0f, std);
        return t;
    }

    /// <summary>Uniform samples in [low, high).</summary>
    public static Tensor Uniform(Rng rng, float low, float high, params int[] shape)
    {
        var t = Pooled((int[])shape.Clone(), zero: false);
        rng.FillUniform(t.Span, low, high);
        return t;
    }

    /// <summary>
    /// A trainable leaf: never registered with a scope (it outlives training steps), requires grad,
    /// and its gradient persists and accumulates across backward passes until <see cref="ZeroGrad"/>.
    /// Its storage is an exact-size pinned array of its own (not pooled: parameters live as long as the model).
    /// </summary>
    public static Tensor Parameter(Tensor init)
    {
        var p = Parameter(init._shape);
        init.Contiguous().Span.CopyTo(p.Span);
        return p;
    }

    /// <summary>An uninitialised parameter of the given shape (for loaders that fill it in place).</summary>
    public static Tensor Parameter(params int[] shape)
    {
        ShapeUtil.Validate(shape);
        var data = GC.AllocateUninitializedArray<float>(Math.Max(1, ShapeUtil.Count(shape)), pinned: true);
        return new Tensor(data, 0, (int[])shape.Clone(), ownsBuffer: true) { RequiresGrad = true, _pooled = false };
    }

    private bool _pooled = true;

    // ---- reading ----------------------------------------------------------------------------

    public float[] ToArray() => Contiguous().Span.ToArray();

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a one-element tensor, got shape {ShapeUtil.Format(_shape)}");
        return Span[0];
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor[").Append(ShapeUtil.Format(_shape)).Append(']');
        if (Op is not null) sb.Append(" op=").Append(Op);
        if (!IsDisposed && Length <= 16)
        {
            sb.Append(" {");
            var s = Contiguous().Span;
            for (int i = 0; i < s.Length; i++) sb.Append(i == 0 ? "" : ", ").Append(s[i].ToString("G6", System.Globalization.CultureInfo.InvariantCulture));
            sb.Append('}');
        }
        return sb.ToString();
    }

    // ---- views ------------------------------------------------------------------------------

    /// <summary>A view with a new shape (one axis may be -1). Gradients flow back through it.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var resolved = ShapeUtil.ResolveReshape(_shape, shape);
        var src = Contiguous();
        var view = new Tensor(src.Data, src.Offset, resolved, ownsBuffer: false);
        if (Autograd.ShouldRecord(src))
            view.SetBackward("reshape", [src], () => Kernels.Elementwise.AddInto(src.GradSpan(), view.Grad!.Span));
        return view;
    }

    /// <summary>A view of rows [start, start+length) along axis 0. Gradients flow back through it.</summary>
    public Tensor Slice(int start, int length)
    {
        if (Rank == 0) throw new ArgumentException("Slice: a scalar has no leading axis");
        if (start < 0 || length < 0 || start + length > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice: rows [{start}, {start + length}) are outside axis 0 of shape {ShapeUtil.Format(_shape)}");
        var src = Contiguous();
        int row = _shape[0] == 0 ? 0 : Length / _shape[0];
        var shape = (int[])_shape.Clone();
        shape[0] = length;
        var view = new Tensor(src.Data, src.Offset + start * row, shape, ownsBuffer: false);
        if (Autograd.ShouldRecord(src))
            view.SetBackward("slice", [src], () => Kernels.Elementwise.AddInto(src.GradSpan().Slice(start * row, length * row), view.Grad!.Span));
        return view;
    }

    /// <summary>
    /// A leaf that shares rows [start, start+count) of axis 0 with this tensor but records no history: used to lay
    /// several parameters out in one buffer (so a fused kernel can read them as one matrix) while each stays a
    /// parameter of its own with its own gradient.
    /// </summary>
    public Tensor LeafRows(int start, int count)
    {
        if (IsTransposedView || Rank == 0 || start < 0 || count < 0 || start + count > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"LeafRows: rows [{start}, {start + count}) are outside axis 0 of [{ShapeUtil.Format(_shape)}]");
        int row = _shape[0] == 0 ? 0 : Length / _shape[0];
        var shape = (int[])_shape.Clone();
        shape[0] = count;
        return new Tensor(Data, Offset + start * row, shape, ownsBuffer: false) { RequiresGrad = RequiresGrad };
    }

    /// <summary>Row <paramref name="index"/> of axis 0, with that axis removed.</summary>
    public Tensor Select(int index)
    {
        var rows = Slice(index, 1);
        return rows.Reshape(_shape[1..]);
    }

    /// <summary>
    /// Transposes the last two axes. For matmul this is a free view; any other op materialises it.
    /// </summary>
    public Tensor T()
    {
        if (Rank < 2) throw new ArgumentException($"T: needs at least two axes, got shape {ShapeUtil.Format(_shape)}");
        var shape = (int[])_shape.Clone();
        (shape[^1], shape[^2]) = (shape[^2], shape[^1]);
        if (IsTransposedView)
        {
            // Transposing a transposed view gives back the base layout.
            var baseView = new Tensor(Data, Offset, shape, ownsBuffer: false);
            var self = this;
            if (Autograd.ShouldRecord(self))
                baseView.SetBackward("transpose", [self], () => Kernels.Elementwise.AddInto(self.GradSpan(), baseView.Grad!.Span));
            return baseView;
        }
        var view = new Tensor(Data, Offset, shape, ownsBuffer: false, transposedView: true);
        var src = this;
        if (Autograd.ShouldRecord(src))
            view.SetBackward("transpose", [src], () =>
            {
                // view.Grad is laid out in the view's (transposed) logical order: transpose it back.
                Kernels.Elementwise.TransposeLastTwoAdd(view.Grad!.Span, src.GradSpan(), ShapeUtil.BatchCount(shape), shape[^2], shape[^1]);
            });
        return view;
    }

    /// <summary>This tensor if it is laid out in logical order, otherwise a materialised copy (with grad).</summary>
    public Tensor Contiguous()
    {
        if (!IsTransposedView) return this;
        int rows = _shape[^2], cols = _shape[^1], batch = ShapeUtil.BatchCount(_shape);
        var y = Uninitialized((int[])_shape.Clone());
        // Storage holds [batch, cols, rows]; logical order is [batch, rows, cols].
        Kernels.Elementwise.TransposeLastTwo(Span, y.Span, batch, cols, rows);
        var src = this;
        if (Autograd.ShouldRecord(src))
            y.SetBackward("contiguous", [src], () => Kernels.Elementwise.AddInto(src.GradSpan(), y.Grad!.Span));
        return y;
    }

    /// <summary>A leaf that shares this tensor's storage but carries no gradient history.</summary>
    public Tensor Detach()
    {
        var src = Contiguous();
        return new Tensor(src.Data, src.Offset, (int[])_shape.Clone(), ownsBuffer: false);
    }

    /// <summary>An independent copy (no history).</summary>
    public Tensor Clone()
    {
        var y = Uninitialized((int[])_shape.Clone());
        Contiguous().Span.CopyTo(y.Span);
        return y;
    }

    // ---- autograd -----------------------------------------------------------------------------

    internal void SetBackward(string op, Tensor[] inputs, Action rule)
    {
        Op = op;
        Inputs = inputs;
        BackwardRule = rule;
        RequiresGrad = true;
    }

    internal void ClearGraph()
    {
        Inputs = null;
        BackwardRule = null;
    }

    /// <summary>The gradient buffer, allocated (zeroed) on first use. Gradients of parameters persist.</summary>
    internal Span<float> GradSpan()
    {
        if (Grad is null)
        {
            var g = new Tensor(BufferPool.Rent(Length, zero: true), 0, (int[])_shape.Clone(), ownsBuffer: true);
            // A leaf's gradient lives as long as the leaf; an intermediate's only for this backward pass.
            (IsLeaf ? Scope : TensorScope.Current ?? Scope)?.Register(g);
            Grad = g;
        }
        return Grad.Span;
    }

    /// <summary>Runs reverse-mode autograd from this scalar, accumulating into every reachable leaf's <see cref="Grad"/>.</summary>
    public void Backward() => Autograd.Backward(this);

    /// <summary>Zeroes the accumulated gradient.</summary>
    public void ZeroGrad() => Grad?.Span.Clear();

    /// <summary>Returns the storage to the pool now (only for tensors that own it). Safe to call twice.</summary>
    public void Dispose()
    {
        if (Grad is { } g && !ReferenceEquals(g, this)) { g.Dispose(); Grad = null; }
        if (OwnsBuffer && _pooled && _data is { } data)
        {
            BufferPool.Return(data);
        }
        _data = null;
        Inputs = null;
        BackwardRule = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref float Ref(int i) => ref Data[Offset + i];

    /// <summary>Address of the first element. Every buffer comes from <see cref="BufferPool"/>, which allocates on the pinned heap.</summary>
    internal unsafe float* Ptr => (float*)Unsafe.AsPointer(ref Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Data), Offset));
}
