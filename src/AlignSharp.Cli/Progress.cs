namespace AlignSharp.Cli;

/// <summary>A one-line console progress bar that redraws in place on a terminal and stays quiet when output is redirected.</summary>
internal static class Progress
{
    /// <param name="status">Extra text after the bar (e.g. the latest loss and learning rate).</param>
    public static Action<int, int> Bar(string label, TextWriter output, Func<string>? status = null)
    {
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var started = System.Diagnostics.Stopwatch.StartNew();
        long lastDraw = -1;
        return (done, total) =>
        {
            if (!terminal) return;
            long now = started.ElapsedMilliseconds;
            if (done < total && now - lastDraw < 100) return;
            lastDraw = now;
            double fraction = total == 0 ? 1 : (double)done / total;
            int filled = (int)(fraction * 30);
            double eta = fraction > 0 ? started.Elapsed.TotalSeconds * (1 - fraction) / fraction : 0;
            output.Write($"\r{label} [{new string('#', filled)}{new string('.', 30 - filled)}] {done}/{total} {fraction * 100,5:F1}% eta {eta:F0}s {status?.Invoke()} ");
            if (done >= total) output.WriteLine();
        };
    }
}
