namespace AlignSharp.Serving;

/// <summary>
/// Counts the sequences the server has taken on (running in the batcher or waiting for a slot), so a request past
/// <see cref="ServerOptions.MaxPendingSequences"/> is answered 429 at once instead of queueing without bound.
/// </summary>
internal sealed class Admission(int limit)
{
    private int _pending;
    private long _cancelled;

    /// <summary>Sequences taken on and not yet finished.</summary>
    public int Pending => Volatile.Read(ref _pending);
    /// <summary>Sequences ended early because their client went away.</summary>
    public long Cancelled => Interlocked.Read(ref _cancelled);

    /// <summary>Takes on <paramref name="sequences"/> more when they fit under the limit; false (nothing taken) when not.</summary>
    public bool TryEnter(int sequences)
    {
        while (true)
        {
            int now = Volatile.Read(ref _pending);
            if (now + sequences > limit) return false;
            if (Interlocked.CompareExchange(ref _pending, now + sequences, now) == now) return true;
        }
    }

    public void Exit(int sequences) => Interlocked.Add(ref _pending, -sequences);

    public void CountCancelled(int sequences) => Interlocked.Add(ref _cancelled, sequences);
}
