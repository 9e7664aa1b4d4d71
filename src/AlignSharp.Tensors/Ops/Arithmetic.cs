using System.Numerics.Tensors;
using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

/// <summary>The differentiable ops. Each op computes its forward value and records its backward rule beside it.</summary>
public static partial class Ops
{
    public static Tensor Add(Tensor a, Tensor b) => Binary("add", BinaryOp.Add, a, b);
    public static Tensor Sub(Tensor a, Tensor b) => Binary("sub", BinaryOp.Sub, a, b);
    public static Tensor Mul(Tensor a, Tensor b) => Binary("mul", BinaryOp.Mul, a, b);
    public static Tensor Div(Tensor a, Tensor b) => Binary("div", BinaryOp.Div, a, b);

    private static Tensor Binary(string name, BinaryOp op, Tensor a, Tensor b)
    {
        a = a.Contiguous(); b = b.Contiguous();
        var shape = ShapeUtil.Broadcast(name, a.Shape, b.Shape);
        var plan = new BroadcastPlan(shape, ShapeUtil.BroadcastStrides(a.Shape, shape), ShapeUtil.BroadcastStrides(b.Shape, shape));
        var y = Tensor.Uninitialized(shape);
        plan.Apply(op, a.Data, a.Offset, b.Data, b.Offset, y.Data, y.Offset);
        if (!Autograd.ShouldRecord(a, b)) return y;

        y.SetBackward(name, [a, b], () =>
        {
            var g = y.Grad!;
            bool aFull = a.Length == y.Length, bFull = b.Length == y.Length;
            // ∂/∂a: add, sub → g; mul → g·b; div → g/b.   ∂/∂b: add → g; sub → −g; mul → g·a; div → −g·a/b².
            if (a.RequiresGrad)
            {
                a.GradSpan();
                switch (op)
                {
                    case BinaryOp.Add or BinaryOp.Sub: ReduceGrad(plan, g.Data, g.Offset, a, isA: true, aFull); break;
                    default:
                        using (var t = Tensor.Uninitialized(shape))
                        {
                            DenseWith(shape, b).Apply(op, g.Data, g.Offset, b.Data, b.Offset, t.Data, t.Offset);
                            ReduceGrad(plan, t.Data, t.Offset, a, isA: true, aFull);
                        }
                        break;
                }
            }
            if (b.RequiresGrad)
            {
                b.GradSpan();
                switch (op)
                {
                    case BinaryOp.Add: ReduceGrad(plan, g.Data, g.Offset, b, isA: false, bFull); break;
                    default:
                        using (var t = Tensor.Uninitialized(shape))
                        {
                            var ts = t.Span;
                            if (op == BinaryOp.Sub) TensorPrimitives.Negate(g.Span, ts);
                            else if (op == BinaryOp.Mul) DenseWith(shape, a).Apply(BinaryOp.Mul, g.Data, g.Offset, a.Data, a.Offset, t.Data, t.Offset);
                            else
                            {
                                // −g·y/b, with y = a/b already computed.
                                TensorPrimitives.Multiply(g.Span, y.Span, ts);
                                TensorPrimitives.Negate(ts, ts);
                                DenseWith(shape, b).Apply(BinaryOp.Div, t.Data, t.Offset, b.Data, b.Offset, t.Data, t.Offset);
                            }
                            ReduceGrad(plan, t.Data, t.Offset, b, isA: false, bFull);
                        }
                        break;
                }
            }
        });
        return y;
    }

    /// <summary>A plan whose first operand is dense over <paramref name="shape"/> and whose second is <paramref name="other"/> broadcast.</summary>
    private static BroadcastPlan DenseWith(int[] shape, Tensor other) =>
        new(shape, ShapeUtil.BroadcastStrides(shape, shape), ShapeUtil.BroadcastStrides(other.Shape, shape));

    private static void ReduceGrad(BroadcastPlan plan, float[] src, int srcOff, Tensor target, bool isA, bool full)
    {
        var grad = target.Grad!;
        if (full) Elementwise.AddInto(grad.Span, src.AsSpan(srcOff, grad.Length));
        else if (isA) plan.ReduceIntoA(src, srcOff, grad.Data, grad.Offset);
        else plan.ReduceIntoB(src, srcOff, grad.Data, grad.Offset);
    }

    /// <summary>y = s·x.</summary>
    public static Tensor Scale(Tensor x, float s)
    {
        x = x.Contiguous();
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        TensorPrimitives.Multiply(x.Span, s, y.Span);
        if (Autograd.ShouldRecord(x))
            y.SetBackward("scale", [x], () => Elementwise.AddScaledInto(x.GradSpan(), y.Grad!.Span, s));
        return y;
    }

    /// <summary>y = x + c.</summary>
    public static Tensor AddScalar(Tensor x, float c)
    {
        x = x.Contiguous();
        var y = Tensor.Uninitialized(x.ShapeArray.ToArray());
        TensorPrimitives.Add(x.Span, c, y.Span);
        if (Autograd.ShouldRecord(x))
            y.SetBackward("add_scalar", [x], () => Elementwise.AddInto(x.GradSpan(), y.Grad!.Span));
        return y;
    }

    public static Tensor Neg(Tensor x) => Scale(x, -1f);
}

public sealed partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Ops.Div(a, b);
    public static Tensor operator -(Tensor a) => Ops.Neg(a);
    public static Tensor operator *(Tensor a, float s) => Ops.Scale(a, s);
    public static Tensor operator *(float s, Tensor a) => Ops.Scale(a, s);
    public static Tensor operator /(Tensor a, float s) => Ops.Scale(a, 1f / s);
    public static Tensor operator +(Tensor a, float c) => Ops.AddScalar(a, c);
    public static Tensor operator -(Tensor a, float c) => Ops.AddScalar(a, -c);
}
