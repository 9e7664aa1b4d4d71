using AlignSharp.Tensors.Kernels;

namespace AlignSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// Matrix product over the last two axes: a [..., M, K] · b [..., K, N] → [..., M, N].
    /// b may be 2-D (shared by every batch entry) or carry the same batch axes as a.
    /// Either operand may be a <see cref="Tensor.T"/> view; the kernel reads it in place.
    /// Backward: dA = dY·Bᵀ, dB = Aᵀ·dY (summed over the batch when b is shared).
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"matmul: both operands need at least two axes, got [{ShapeUtil.Format(a.Shape)}] and [{ShapeUtil.Format(b.Shape)}]");
        int m = a.Dim(-2), k = a.Dim(-1), n = b.Dim(-1);
        bool sharedB = b.Rank == 2;
        if (b.Dim(-2) != k || (!sharedB && !a.Shape[..^2].SequenceEqual(b.Shape[..^2])))
            throw new ArgumentException($"matmul: shapes [{ShapeUtil.Format(a.Shape)}] and [{ShapeUtil.Format(b.Shape)}] do not fit (need [..., M, K] · [..., K, N] or [K, N])");
        int batch = ShapeUtil.BatchCount(a.Shape);
        bool transA = a.IsTransposedView, transB = b.IsTransposedView;
        int lda = transA ? m : k, ldb = transB ? k : n;

        var shape = a.ShapeArray.ToArray();
        shape[^1] = n;
        var y = Tensor.Uninitialized(shape);

        // A shared, untransposed b lets the batch fold into M: one large GEMM instead of many small ones.
        bool fold = sharedB && !transA;
        int mm = fold ? batch * m : m, bb = fold ? 1 : batch;
        long strideA = fold ? 0 : (long)m * k, strideB = sharedB ? 0 : (long)k * n, strideY = fold ? 0 : (long)m * n;

        float* pa = a.Ptr, pb = b.Ptr, py = y.Ptr;
        Batched(bb, (long)mm * n * k, i => Sgemm.Multiply(transA, transB, mm, n, k, pa + i * strideA, lda, pb + i * strideB, ldb, py + i * strideY, n, false, WorkerPool.Current));

        if (!Autograd.ShouldRecord(a, b)) return y;
        y.SetBackward("matmul", [a, b], () =>
        {
            var g = y.Grad!;
            float* pg = g.Ptr;
            {
                if (a.RequiresGrad)
                {
                    a.GradSpan();
                    float* da = a.Grad!.Ptr;
                    // dA[M, K] = dY[M, N] · op(B)ᵀ
                    Batched(bb, (long)mm * n * k, i => Sgemm.Multiply(false, !transB, mm, k, n, pg + i * strideY, n, pb + i * strideB, ldb, da + i * (fold ? 0 : (long)m * k), k, true, WorkerPool.Current));
                }
                if (b.RequiresGrad)
                {
                    b.GradSpan();
                    float* db = b.Grad!.Ptr;
                    {
                        if (sharedB && !fold)
                        {
                            // Every batch entry adds into the same dB: run them in order, each one parallel inside.
                            for (int i = 0; i < batch; i++)
                                Sgemm.Multiply(!transA, false, k, n, m, pa + i * (long)m * k, lda, pg + i * (long)m * n, n, db, n, true, WorkerPool.Current);
                        }
                        else
                        {
                            // dB[K, N] = op(A)ᵀ · dY
                            Batched(bb, (long)mm * n * k, i => Sgemm.Multiply(!transA, false, k, n, mm, pa + i * strideA, lda, pg + i * strideY, n, db + i * strideB, n, true, WorkerPool.Current));
                        }
                    }
                }
            }
        });
        return y;
    }

    /// <summary>
    /// y = x·Wᵀ + b for x [..., in], W [out, in] (the Hugging Face / PyTorch Linear layout), b [out].
    /// Backward: dx = dy·W, dW = dyᵀ·x, db = Σ rows of dy.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        x = x.Contiguous(); weight = weight.Contiguous();
        if (weight.Rank != 2 || x.Rank < 1 || x.Dim(-1) != weight.Dim(1))
            throw new ArgumentException($"linear: input [{ShapeUtil.Format(x.Shape)}] does not fit weight [{ShapeUtil.Format(weight.Shape)}] (need [..., in] and [out, in])");
        int fin = weight.Dim(1), fout = weight.Dim(0), rows = ShapeUtil.RowCount(x.Shape);
        if (bias is not null && (bias.Rank != 1 || bias.Dim(0) != fout))
            throw new ArgumentException($"linear: bias [{ShapeUtil.Format(bias.Shape)}] does not fit weight [{ShapeUtil.Format(weight.Shape)}] (need [out])");

        var shape = x.ShapeArray.ToArray();
        shape[^1] = fout;
        var y = Tensor.Uninitialized(shape);
        Sgemm.Multiply(false, true, rows, fout, fin, x.Ptr, fin, weight.Ptr, fin, y.Ptr, fout, false, WorkerPool.Current);
        if (bias is not null)
        {
            var bs = bias.Span; var ys = y.Span;
            for (int r = 0; r < rows; r++) Elementwise.AddInto(ys.Slice(r * fout, fout), bs);
        }

        if (!Autograd.ShouldRecord(x, weight, bias)) return y;
        y.SetBackward("linear", bias is null ? [x, weight] : [x, weight, bias], () =>
        {
            var g = y.Grad!;
            float* px = x.Ptr, pw = weight.Ptr, pg = g.Ptr;
            {
                if (x.RequiresGrad)
                {
                    x.GradSpan();
                    Sgemm.Multiply(false, false, rows, fin, fout, pg, fout, pw, fin, x.Grad!.Ptr, fin, true, WorkerPool.Current);
                }
                if (weight.RequiresGrad)
                {
                    weight.GradSpan();
                    Sgemm.Multiply(true, false, fout, fin, rows, pg, fout, px, fin, weight.Grad!.Ptr, fin, true, WorkerPool.Current);
                }
            }
            if (bias is not null && bias.RequiresGrad)
            {
                var db = bias.GradSpan(); var gs = g.Span;
                for (int r = 0; r < rows; r++) Elementwise.AddInto(db, gs.Slice(r * fout, fout));
            }
        });
        return y;
    }

    /// <summary>Runs count independent GEMMs: in parallel over the batch when each is small, else one by one (each parallel inside).</summary>
    private static void Batched(int count, long flopsEach, Action<int> gemm)
    {
        if (count == 1) { gemm(0); return; }
        if (flopsEach < 1 << 21) WorkerPool.Current.For(count, gemm);
        else for (int i = 0; i < count; i++) gemm(i);
    }
}
