namespace AlignSharp.Tensors;

/// <summary>
/// A small seeded generator (xoshiro256**, seeded by SplitMix64) whose stream is fixed by this
/// code rather than by the runtime, so the same seed gives the same numbers on every .NET version.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The generator's full state, for checkpoints (a resumed run draws the same numbers).</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3, _spareNormal is { } s ? BitConverter.DoubleToUInt64Bits(s) : 0, _spareNormal is null ? 0UL : 1UL];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(ulong[] state)
    {
        if (state.Length != 6) throw new ArgumentException($"RNG state needs 6 values, got {state.Length}");
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
        _spareNormal = state[5] == 1 ? BitConverter.UInt64BitsToDouble(state[4]) : null;
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive));
        return (int)((NextUInt64() >> 33) % (ulong)maxExclusive);
    }

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } spare) { _spareNormal = null; return spare; }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fills <paramref name="span"/> with normal samples of the given mean and standard deviation.</summary>
    public void FillNormal(Span<float> span, float mean = 0f, float std = 1f)
    {
        for (int i = 0; i < span.Length; i++) span[i] = (float)(mean + std * NextNormal());
    }

    /// <summary>Fills <paramref name="span"/> uniformly in [low, high).</summary>
    public void FillUniform(Span<float> span, float low, float high)
    {
        for (int i = 0; i < span.Length; i++) span[i] = (float)(low + (high - low) * NextDouble());
    }
}
