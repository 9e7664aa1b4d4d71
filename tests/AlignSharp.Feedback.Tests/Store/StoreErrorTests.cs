using AlignSharp.Feedback.Store;
using Microsoft.Data.Sqlite;
using static AlignSharp.Feedback.Tests.Store.StoreTestKit;

namespace AlignSharp.Feedback.Tests.Store;

/// <summary>Every way a store file can be unusable gives one line naming the file and the fix.</summary>
public class StoreErrorTests
{
    [Fact]
    public void A_file_that_is_not_sqlite_is_named()
    {
        using var folder = Folder();
        string path = folder.File("labels.jsonl");
        File.WriteAllText(path, "{\"prompt\": \"this is a JSONL file, not a database\"}\n");
        var e = Assert.Throws<FeedbackException>(() => FeedbackStore.Open(path));
        Assert.StartsWith($"{path}: not an SQLite database", e.Message);
        Assert.Contains("new file name", e.Message);
        Assert.Equal("{\"prompt\": \"this is a JSONL file, not a database\"}\n", File.ReadAllText(path));  // untouched
    }

    [Fact]
    public void A_truncated_sqlite_file_is_refused()
    {
        using var folder = Folder();
        string path = folder.File("feedback.db");
        File.WriteAllBytes(path, "SQLite format"u8.ToArray());
        Assert.Contains("not an SQLite database", Assert.Throws<FeedbackException>(() => FeedbackStore.Open(path)).Message);
    }

    [Fact]
    public void Another_sqlite_database_is_not_taken_for_a_store()
    {
        using var folder = Folder();
        string path = folder.File("other.db");
        Raw(path, "CREATE TABLE things (x INTEGER)");
        var e = Assert.Throws<FeedbackException>(() => FeedbackStore.Open(path));
        Assert.StartsWith($"{path}: an SQLite database but not a feedback store", e.Message);
    }

    [Fact]
    public void Another_schema_version_is_refused_with_both_versions()
    {
        using var folder = Folder();
        string path = folder.File("feedback.db");
        using (FeedbackStore.Open(path)) { }
        Raw(path, "PRAGMA user_version = 99");
        var e = Assert.Throws<FeedbackException>(() => FeedbackStore.Open(path));
        Assert.Equal($"{path}: feedback store schema version 99, but this build reads version {FeedbackStore.SchemaVersion}; "
            + "open it with the alignsharp version that wrote it, or give a new file name to start a new store", e.Message);
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        using var folder = Folder();
        string path = Path.Combine(folder.Path, "no-such-run", "feedback.db");
        var e = Assert.Throws<FeedbackException>(() => FeedbackStore.Open(path));
        Assert.Contains("no-such-run does not exist", e.Message);
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "no-such-run")));
    }

    [Fact]
    public void A_folder_given_as_the_store_is_named()
    {
        using var folder = Folder();
        var e = Assert.Throws<FeedbackException>(() => FeedbackStore.Open(folder.Path));
        Assert.Contains("is a folder", e.Message);
    }

    [Fact]
    public void A_read_only_folder_is_named()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var folder = Folder();
        // root writes through permission bits, so as root use sysfs, where nobody may create files.
        string readOnly = Environment.IsPrivilegedProcess ? "/sys" : Path.Combine(folder.Path, "read-only");
        if (!Environment.IsPrivilegedProcess)
        {
            Directory.CreateDirectory(readOnly);
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        try
        {
            string path = Path.Combine(readOnly, "feedback.db");
            var e = Assert.Throws<FeedbackException>(() => FeedbackStore.Open(path));
            Assert.StartsWith($"{path}: cannot write the store", e.Message);
            Assert.Contains($"make {readOnly} writable", e.Message);
        }
        finally
        {
            if (!Environment.IsPrivilegedProcess) File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void A_store_locked_by_another_writer_waits_then_says_so()
    {
        using var folder = Folder();
        string path = folder.File("feedback.db");
        using var store = FeedbackStore.Open(path, new FeedbackStoreOptions { BusyTimeout = TimeSpan.FromSeconds(1) });
        using var other = new SqliteConnection($"Data Source={path};Pooling=False");
        other.Open();
        using var hold = other.BeginTransaction(deferred: false);  // BEGIN IMMEDIATE: holds the write lock
        var source = new CountingSource();
        var item = Items(1, 1)[0];
        var e = Assert.Throws<FeedbackException>(() => store.PutLabels([StoredLabel.For(source, item.Prompt, item.Response, source.Score(item.Prompt, item.Response))]));
        Assert.Equal($"{path}: the store is locked by another process (waited 1 s); let it finish or stop it, or use another store file", e.Message);
        hold.Rollback();
        Assert.Equal(1, store.PutLabels([StoredLabel.For(source, item.Prompt, item.Response, null)]));  // free again
    }

    static void Raw(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
