using System.Diagnostics;
using Xunit.Abstractions;
using AlignSharp.Feedback.Store;
using AlignSharp.Feedback.StoreChild;
using static AlignSharp.Feedback.Tests.Store.StoreTestKit;

namespace AlignSharp.Feedback.Tests.Store;

/// <summary>
/// kill -9 in a real child process: a writer killed mid-run leaves a sound store holding whole batches only — at
/// least every batch it reported committed — and a re-run finishes with each label exactly once, asking the source
/// only for what was lost.
/// </summary>
public class KillTests(ITestOutputHelper output)
{
    /// <summary>
    /// The batches the child writes. The kill comes right after batch <see cref="Committed"/> reports, while the big
    /// batch after it is being written (its pages spill into the write-ahead log before the commit), so the store
    /// must recover to a batch boundary.
    /// </summary>
    static readonly int[] Sizes = [250, 250, 250, 5_000, 250, 250];
    const int Committed = 3;

    [Fact]
    public void A_killed_writer_loses_nothing_committed_and_leaves_no_half_rows()
    {
        using var folder = Folder();
        string db = folder.File("feedback.db");
        int total = Sizes.Sum();
        var boundaries = Enumerable.Range(0, Sizes.Length + 1).Select(n => Sizes.Take(n).Sum()).ToArray();

        using (var child = Start(db))
        {
            // Wait for the child's own word that batch K is committed, then SIGKILL it (no sleeps that could race).
            for (string? line; (line = child.StandardOutput.ReadLine()) != $"committed {Committed}";)
                if (line is null || !line.StartsWith("committed ")) Assert.Fail($"child ended early: {line} {child.StandardError.ReadToEnd()}");
            child.Kill();
            child.WaitForExit();
        }

        int survived;
        using (var store = FeedbackStore.Open(db))
        {
            Assert.Equal("ok", store.CheckIntegrity());
            var labels = store.Labels();
            survived = labels.Count;
            output.WriteLine($"killed with {survived} of {total} labels committed (batch boundaries: {string.Join(", ", boundaries)})");
            Assert.True(survived >= boundaries[Committed], $"{survived} labels, but {Committed} batches ({boundaries[Committed]} labels) were reported committed");
            Assert.Contains(survived, boundaries);  // whole batches only
            foreach (var stored in labels)
            {
                int i = int.Parse(stored.Response["answer ".Length..]);
                Assert.Equal(ChildSource.Item(i).Prompt.Id, stored.Prompt.Id);
                SameLabel(ChildSource.Expected(i), stored.Label);  // every row complete
            }
        }

        using (var child = Start(db))
        {
            string printed = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            Assert.True(child.ExitCode == 0, child.StandardError.ReadToEnd());
            Assert.Contains($"done inner={total - survived} hits={survived}", printed);
        }
        using (var store = FeedbackStore.Open(db))
        {
            var labels = store.Labels();
            Assert.Equal(total, labels.Count);
            Assert.Equal(Enumerable.Range(0, total).Select(i => $"answer {i}").Order(), labels.Select(l => l.Response).Order());
            Assert.Equal("ok", store.CheckIntegrity());
        }
    }

    static Process Start(string db)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "AlignSharp.Feedback.StoreChild.dll");
        string host = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, db, string.Join(',', Sizes) }) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }
}
