using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Reflection;

namespace AlignSharp.Fuzz;

/// <summary>
/// <c>dotnet run --project tools/fuzz/AlignSharp.Fuzz -c Release -- --parser all --inputs 1000000 [--seed S] [--out DIR] [--timeout-s T]</c>
/// <para>
/// Each parser runs in a worker process, so a crash that .NET cannot catch (stack overflow) or a hang (one input longer
/// than --timeout-s) kills only the worker: the supervisor saves the input it was on, counts it as a distinct crash
/// and starts a new worker at the next input. Crash inputs are saved under DIR/crashes/PARSER/ for reproduction
/// (<c>--replay FILE --parser P</c> runs one input in process and prints the outcome).
/// </para>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var o = Options.Parse(args);
        if (o.Replay is not null) return Replay(o);
        if (o.Worker) return Worker(o);
        var targets = o.Parser == "all" ? Targets.All : [Targets.Get(o.Parser)];
        Console.WriteLine($"seed {o.Seed}, {o.Inputs} inputs per parser{(double.IsFinite(o.BudgetSeconds) ? $" or {o.BudgetSeconds} s each, whichever comes first" : "")}, per-input time limit {o.TimeoutSeconds} s, output {o.Out}");
        int totalCrashes = 0;
        foreach (var target in targets)
        {
            var r = Supervise(target, o);
            totalCrashes += r.Crashes;
            Console.WriteLine($"{target.Name,-17} inputs tried {r.Tried,9}  distinct crashes {r.Crashes}  (crash inputs {r.CrashInputs}; accepted {r.Accepted}, rejected with {string.Join("/", target.OwnExceptions.Select(t => t.Name))} {r.Rejected})  {r.Tried / Math.Max(r.Seconds, 1e-9):F0} inputs/s");
        }
        Console.WriteLine(totalCrashes == 0 ? "distinct crashes: 0" : $"distinct crashes: {totalCrashes}; inputs and stack traces under {Path.Combine(o.Out, "crashes")}");
        return totalCrashes == 0 ? 0 : 1;
    }

    sealed record Totals(long Tried, long Accepted, long Rejected, long CrashInputs, int Crashes, double Seconds);

    /// <summary>Runs workers until the parser's inputs are done, restarting after each dead one.</summary>
    static Totals Supervise(FuzzTarget target, Options o)
    {
        string crashDir = Path.Combine(o.Out, "crashes", target.Name), scratch = Path.Combine(o.Out, "scratch", target.Name);
        Directory.CreateDirectory(scratch);
        string progressFile = Path.Combine(scratch, "progress");
        long from = 0, tried = 0, accepted = 0, rejected = 0, crashInputs = 0, slowOnce = 0;
        var clock = Stopwatch.StartNew();
        while (from < o.Inputs)
        {
            File.WriteAllBytes(progressFile, new byte[ProgressBytes]);
            double budgetLeft = o.BudgetSeconds - clock.Elapsed.TotalSeconds;
            if (budgetLeft <= 0) break;
            var (rc, stdout, stderr) = Spawn(o, target.Name, from, budgetLeft);
            foreach (var line in stderr.Split('\n').Where(l => l.StartsWith("slow: ", StringComparison.Ordinal))) Console.WriteLine(line);
            var counters = ReadProgress(progressFile);
            var done = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("DONE ", StringComparison.Ordinal));
            if (rc == 0 && done is not null)
            {
                var f = done.Split(' ');
                tried += long.Parse(f[1]); accepted += long.Parse(f[2]); rejected += long.Parse(f[3]); crashInputs += long.Parse(f[4]);
                break;
            }
            // The worker died on input counters.Index: record it and go on after it.
            long index = counters.Index;
            tried += index - from + 1; accepted += counters.Accepted; rejected += counters.Rejected; crashInputs += counters.CrashInputs + 1;
            var input = File.ReadAllBytes(Path.Combine(scratch, target.FileName));
            if (rc == HangExitCode && !HangsAgain(o, target, input))
            {
                // Slow only under load (the machine is shared): a fresh process finished it in time. Not a crash.
                crashInputs--; rejected++; from = index + 1; slowOnce++;
                continue;
            }
            string kind = rc == HangExitCode ? $"Hang (one input ran over {o.TimeoutSeconds} s)" : stderr.Contains("Stack overflow") ? "StackOverflow" : $"ProcessExit({rc})";
            string frame = stderr.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("at AlignSharp", StringComparison.Ordinal) && !l.StartsWith("at AlignSharp.Fuzz", StringComparison.Ordinal)) ?? "?";
            Campaign.Save(new Crash($"{kind} {frame}", $"{kind}\n{Tail(stderr, 4000)}", index, input), crashDir, target.Name, o.Seed);
            from = index + 1;
        }
        if (slowOnce > 0) Console.WriteLine($"{target.Name}: {slowOnce} inputs ran over {o.TimeoutSeconds} s once but finished in time when rerun alone (counted as rejected)");
        int distinct = Directory.Exists(crashDir) ? Directory.GetFiles(crashDir, "*.txt").Length : 0;
        return new Totals(tried, accepted, rejected, crashInputs, distinct, clock.Elapsed.TotalSeconds);
    }

    const int HangExitCode = 124;
    const int ProgressBytes = 4 * sizeof(long);

    record struct Progress(long Index, long Accepted, long Rejected, long CrashInputs);

    static Progress ReadProgress(string file)
    {
        var b = File.ReadAllBytes(file);
        return new Progress(BitConverter.ToInt64(b, 0), BitConverter.ToInt64(b, 8), BitConverter.ToInt64(b, 16), BitConverter.ToInt64(b, 24));
    }

    /// <summary>Reruns a timed-out input alone in a fresh process: a hang only if it runs over the limit again.</summary>
    static bool HangsAgain(Options o, FuzzTarget target, byte[] input)
    {
        string file = Path.Combine(o.Out, "scratch", target.Name, "hang-check.input");
        File.WriteAllBytes(file, input);
        var psi = NewSelf();
        foreach (var a in new[] { "--replay", file, "--parser", target.Name, "--root", o.Root }) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true; psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEndAsync(); p.StandardError.ReadToEndAsync();
        if (p.WaitForExit(TimeSpan.FromSeconds(o.TimeoutSeconds + 2))) return false;
        p.Kill(entireProcessTree: true);
        return true;
    }

    static ProcessStartInfo NewSelf()
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        return psi;
    }

    static (int Rc, string Stdout, string Stderr) Spawn(Options o, string parser, long from, double budgetSeconds)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        foreach (var a in new[] { "--worker", "--parser", parser, "--from", from.ToString(), "--inputs", o.Inputs.ToString(), "--seed", o.Seed.ToString(),
                     "--out", o.Out, "--timeout-s", o.TimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--root", o.Root,
                     "--budget-s", budgetSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, err.Result);
    }

    /// <summary>Runs inputs [from, inputs) in process; writes progress to the shared file and exits 124 when one input hangs.</summary>
    static int Worker(Options o)
    {
        var target = Targets.Get(o.Parser);
        string scratch = Path.Combine(o.Out, "scratch", target.Name), crashDir = Path.Combine(o.Out, "crashes", target.Name);
        using var map = MemoryMappedFile.CreateFromFile(Path.Combine(scratch, "progress"), FileMode.Open, null, ProgressBytes);
        using var view = map.CreateViewAccessor(0, ProgressBytes);
        long started = Stopwatch.GetTimestamp(), current = -1;
        var watchdog = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(200);
                if (Interlocked.Read(ref current) >= 0 && Stopwatch.GetElapsedTime(Interlocked.Read(ref started)).TotalSeconds > o.TimeoutSeconds)
                    Environment.Exit(HangExitCode);
            }
        }) { IsBackground = true };
        watchdog.Start();
        var deadline = DateTime.UtcNow.AddSeconds(Math.Min(o.BudgetSeconds, 1e9));
        var result = Campaign.Run(target, o.Root, o.Seed, o.From, o.Inputs, scratch, deadline: deadline, progress: (i, r) =>
        {
            view.Write(0, i); view.Write(8, r.Accepted); view.Write(16, r.Rejected); view.Write(24, r.CrashInputs);
            Interlocked.Exchange(ref started, Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref current, i);
        });
        foreach (var crash in result.Crashes.Values) Campaign.Save(crash, crashDir, target.Name, o.Seed);
        Console.WriteLine($"DONE {result.Tried} {result.Accepted} {result.Rejected} {result.CrashInputs}");
        return 0;
    }

    static int Replay(Options o)
    {
        var target = Targets.Get(o.Parser);
        string scratch = Path.Combine(Path.GetTempPath(), $"alignsharp-fuzz-replay-{Environment.ProcessId}");
        Directory.CreateDirectory(scratch);
        string path = Path.Combine(scratch, target.FileName);
        var input = File.ReadAllBytes(o.Replay!);
        File.WriteAllBytes(path, input);
        var outcome = Campaign.Check(target, path, 0, input)!;
        Console.WriteLine(outcome.Description.Length == 0 ? "accepted" : outcome.Key.Length == 0 ? $"rejected with {outcome.Description}" : $"CRASH {outcome.Key}\n{outcome.Description}");
        Directory.Delete(scratch, true);
        return outcome.Key.Length == 0 ? 0 : 1;
    }

    static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    sealed record Options(string Parser, long Inputs, int Seed, string Out, double TimeoutSeconds, bool Worker, long From, string Root, string? Replay, double BudgetSeconds)
    {
        public static Options Parse(string[] args)
        {
            string parser = "all", output = Path.Combine(Path.GetTempPath(), "alignsharp-fuzz"), root = FindRoot();
            long inputs = 1_000_000, from = 0; int seed = 1; double timeout = 10, budget = double.PositiveInfinity; bool worker = false; string? replay = null;
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]}: missing value");
                switch (args[i])
                {
                    case "--parser": parser = Next(); break;
                    case "--inputs": inputs = long.Parse(Next()); break;
                    case "--seed": seed = int.Parse(Next()); break;
                    case "--out": output = Path.GetFullPath(Next()); break;
                    case "--timeout-s": timeout = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--worker": worker = true; break;
                    case "--from": from = long.Parse(Next()); break;
                    case "--root": root = Next(); break;
                    case "--replay": replay = Next(); break;
                    case "--budget-s": budget = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                    default: throw new ArgumentException($"unknown option {args[i]} (see tools/fuzz/README.md)");
                }
            }
            return new Options(parser, inputs, seed, output, timeout, worker, from, root, replay, budget);
        }
    }

    /// <summary>The repository root: the nearest folder above the working directory or the program that holds AlignSharp.sln.</summary>
    public static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "AlignSharp.sln"))) return d.FullName;
        throw new InvalidOperationException("cannot find AlignSharp.sln above the working directory; pass --root");
    }
}
