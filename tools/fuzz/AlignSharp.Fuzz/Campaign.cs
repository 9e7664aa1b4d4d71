using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace AlignSharp.Fuzz;

/// <summary>A distinct crash: an exception that is not the parser's own (or has no message), keyed by type and top frame.</summary>
public sealed record Crash(string Key, string Description, long Index, byte[] Input);

/// <summary>What a run of one parser over inputs [from, to) found.</summary>
public sealed class CampaignResult
{
    public required string Parser { get; init; }
    public long Tried { get; set; }
    public long Accepted { get; set; }
    public long Rejected { get; set; }
    public long CrashInputs { get; set; }
    public Dictionary<string, Crash> Crashes { get; } = new(StringComparer.Ordinal);
    public TimeSpan Elapsed { get; set; }
    public double InputsPerSecond => Tried / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// The fuzz loop and its oracle. Input <c>i</c> of a parser is a pure function of (parser, seed, i): the unmodified seeds
/// first, then mutations of them — so any input can be regenerated from its index for reproduction.
/// </summary>
public static class Campaign
{
    /// <summary>When positive, inputs slower than this many seconds are reported on stderr (env ALIGNSHARP_FUZZ_SLOW_S).</summary>
    public static double ReportSlowSeconds = double.TryParse(Environment.GetEnvironmentVariable("ALIGNSHARP_FUZZ_SLOW_S"), System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 0;

    /// <summary>Input <paramref name="index"/> of <paramref name="target"/> for <paramref name="seed"/>.</summary>
    public static byte[] Input(FuzzTarget target, IReadOnlyList<byte[]> seeds, int seed, long index)
    {
        if (index < seeds.Count) return seeds[(int)index];
        var rng = new Random(StableHash($"{target.Name}/{seed}/{index}"));
        return Mutator.Mutate(rng, seeds[rng.Next(seeds.Count)], seeds, target.JsonAware, target.TextAware);
    }

    /// <summary>Runs inputs [<paramref name="from"/>, <paramref name="to"/>) in this process.</summary>
    /// <param name="scratch">Folder the input file is written to before each run.</param>
    /// <param name="progress">Called with the index before each input (the supervisor's record of where a dead worker was).</param>
    /// <param name="deadline">Stop early at this time (UTC), e.g. for a time-boxed campaign.</param>
    public static CampaignResult Run(FuzzTarget target, string repoRoot, int seed, long from, long to, string scratch, Action<long, CampaignResult>? progress = null, DateTime? deadline = null)
    {
        var seeds = target.Seeds(repoRoot);
        if (seeds.Count == 0) throw new InvalidOperationException($"{target.Name}: no seed inputs found under {repoRoot}");
        Directory.CreateDirectory(scratch);
        string path = Path.Combine(scratch, target.FileName);
        var result = new CampaignResult { Parser = target.Name };
        var clock = Stopwatch.StartNew();
        for (long i = from; i < to; i++)
        {
            if (deadline is { } end && (i & 63) == 0 && DateTime.UtcNow > end) break;
            var input = Input(target, seeds, seed, i);
            File.WriteAllBytes(path, input);
            progress?.Invoke(i, result);
            result.Tried++;
            long started = Stopwatch.GetTimestamp();
            var crash = Check(target, path, i, input);
            if (ReportSlowSeconds > 0 && Stopwatch.GetElapsedTime(started).TotalSeconds > ReportSlowSeconds)
                Console.Error.WriteLine($"slow: {target.Name} input {i} took {Stopwatch.GetElapsedTime(started).TotalSeconds:F2} s");
            if (crash is null) continue;
            if (crash.Description.Length == 0) result.Accepted++;
            else if (crash.Key.Length == 0) result.Rejected++;
            else
            {
                result.CrashInputs++;
                result.Crashes.TryAdd(crash.Key, crash);
            }
        }
        result.Elapsed = clock.Elapsed;
        return result;
    }

    /// <summary>The oracle: accepted (empty description), rejected with an own exception (empty key), or a crash.</summary>
    public static Crash? Check(FuzzTarget target, string path, long index, byte[] input)
    {
        try
        {
            target.Run(path);
            return new Crash("", "", index, input);
        }
        catch (Exception e) when (target.IsOwn(e))
        {
            return new Crash("", e.GetType().Name, index, input);
        }
        catch (Exception e)
        {
            string top = TopFrame(e);
            return new Crash($"{e.GetType().FullName} at {top}", $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}", index, input);
        }
    }

    /// <summary>The innermost frame in project code (falling back to the innermost frame).</summary>
    public static string TopFrame(Exception e)
    {
        var frames = new StackTrace(e, false).GetFrames();
        var own = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("AlignSharp") == true) ?? frames.FirstOrDefault();
        var method = own?.GetMethod();
        return method is null ? "?" : $"{method.DeclaringType?.FullName}.{method.Name}";
    }

    /// <summary>Saves a crash as <c>{hash}.input</c> (the bytes) and <c>{hash}.txt</c> (key, index, exception), once per key.</summary>
    public static void Save(Crash crash, string directory, string parser, int seed)
    {
        Directory.CreateDirectory(directory);
        string name = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(crash.Key)))[..12].ToLowerInvariant();
        string txt = Path.Combine(directory, name + ".txt");
        if (File.Exists(txt)) return;
        File.WriteAllBytes(Path.Combine(directory, name + ".input"), crash.Input);
        File.WriteAllText(txt, $"parser: {parser}\nseed: {seed}\nindex: {crash.Index}\nkey: {crash.Key}\n\n{crash.Description}\n");
    }

    /// <summary>FNV-1a, stable across processes (string.GetHashCode is randomized per process).</summary>
    public static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) { hash ^= c; hash *= 16777619; }
        return (int)hash;
    }
}
