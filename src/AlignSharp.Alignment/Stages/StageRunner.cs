using AlignSharp.Models.Checkpoints;
using System.Diagnostics;

namespace AlignSharp.Alignment.Stages;

/// <summary>
/// Runs a pipeline's named stages under <c>RUN_DIR/stages</c>: a stage that finishes writes <c>NAME.done</c>; with
/// resume, a finished stage is skipped (the caller then reads its outputs from disk) and a stage that was cut off runs
/// again (a training stage continues from its last checkpoint). A fresh run clears the markers first, so no stage of
/// an earlier run counts as done. Each stage's time is logged; a training stage adds the time its earlier, interrupted
/// parts spent up to the checkpoint it resumed from (<see cref="AddEarlierTime"/>).
/// </summary>
public sealed class StageRunner
{
    private readonly string _stages;
    private readonly bool _resume;
    private readonly TextWriter _log;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _earlier;

    public StageRunner(string runDir, bool resume, TextWriter log)
    {
        _stages = Path.Combine(runDir, "stages");
        _resume = resume;
        _log = log;
        Directory.CreateDirectory(_stages);
        if (!resume)
            foreach (var f in Directory.EnumerateFiles(_stages)) File.Delete(f);
    }

    /// <summary>Whether the stage finished in an earlier process and this run resumes.</summary>
    public bool IsDone(string name) => _resume && File.Exists(Marker(name));

    /// <summary>Runs <paramref name="run"/> unless the stage is done (returns false then), and marks it done.</summary>
    public bool Run(string name, Action run)
    {
        if (IsDone(name)) { Log($"{name}: done earlier, skipped"); return false; }
        var sw = Stopwatch.StartNew();
        _earlier = TimeSpan.Zero;
        run();
        // Written after the stage's outputs, then renamed: a kill leaves either no marker or a whole one.
        AtomicFile.WriteAllText(Marker(name), DateTime.UtcNow.ToString("O"));
        Log($"{name}: finished in {(sw.Elapsed + _earlier).TotalSeconds:F1} s");
        return true;
    }

    /// <summary>Counts training time a resumed stage spent before this process (from its checkpoint's trainer state).</summary>
    public void AddEarlierTime(TimeSpan earlier) => _earlier += earlier;

    /// <summary>A progress line prefixed with the run's elapsed time.</summary>
    public void Log(string message) => _log.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");

    private string Marker(string name) => Path.Combine(_stages, name + ".done");
}
