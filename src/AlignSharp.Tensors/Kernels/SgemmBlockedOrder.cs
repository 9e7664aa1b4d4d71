namespace AlignSharp.Tensors.Kernels;

public static unsafe partial class Sgemm
{
    [ThreadStatic] private static int _blockedOrderDepth;

    /// <summary>True inside a <see cref="BlockedOrder"/> block on this thread.</summary>
    public static bool IsBlockedOrder => _blockedOrderDepth != 0;

    /// <summary>
    /// Until the handle is disposed, every product on this thread takes the blocked path, whatever m (no GEMV or
    /// small-M kernel): each row of C is the blocked kernel's chain, which depends on k only, so row i is bitwise the
    /// same whether A has 1 row or 10 000 — a KV-cached decode step computes a token's row as the training forward
    /// over the whole sequence does (the rollout/training log-prob guarantee). Attention forwards take their row-wise
    /// path in the block too (FlashAttention). Costs small-batch decoding speed (the weights are packed every step);
    /// large products run as they do outside it.
    /// </summary>
    public static BlockedOrderScope BlockedOrder() => new(0);

    /// <summary>Handle of <see cref="BlockedOrder"/>; disposing it ends the block.</summary>
    public readonly struct BlockedOrderScope : IDisposable
    {
        internal BlockedOrderScope(int _) => _blockedOrderDepth++;
        public void Dispose() => _blockedOrderDepth--;
    }
}
