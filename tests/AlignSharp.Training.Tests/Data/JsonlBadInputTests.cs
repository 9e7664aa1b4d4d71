using System.Text;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Tests.Data;

/// <summary>Bad bytes in a JSONL dataset: each is a TrainingException naming file:line (crash classes found by tools/fuzz).</summary>
public class JsonlBadInputTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-jsonlbad-" + Guid.NewGuid().ToString("N"));
    public JsonlBadInputTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    const string Good = """{"prompt": "p", "chosen": "a", "rejected": "b"}""";

    string Write(params byte[][] lines)
    {
        string path = Path.Combine(_dir, "data.jsonl");
        File.WriteAllBytes(path, lines.SelectMany(l => l.Concat("\n"u8.ToArray())).ToArray());
        return path;
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    public void Invalid_utf8_names_file_and_line(byte[] bad)
    {
        byte[] line = [.. "{\"prompt\": \"p"u8, .. bad, .. "\", \"chosen\": \"a\", \"rejected\": \"b\"}"u8];
        string path = Write(Encoding.UTF8.GetBytes(Good), line);
        var e = Assert.Throws<TrainingException>(() => JsonlDataset.ReadAll(path));
        Assert.Contains($"{path}:2: not valid UTF-8", e.Message);
        Assert.Contains("column 14", e.Message); // {"prompt": "p is 13 bytes
    }

    [Fact]
    public void Invalid_utf8_row_is_skipped_and_counted_with_skip_bad_rows()
    {
        string path = Write(Encoding.UTF8.GetBytes(Good), [0xFF, .. Encoding.UTF8.GetBytes(Good)], Encoding.UTF8.GetBytes(Good));
        var data = new JsonlDataset(path, skipBadRows: true);
        Assert.Equal(2, data.ToList().Count);
        Assert.Equal(1, data.SkippedRows);
        Assert.Contains(":2: not valid UTF-8", data.SkipReasons[0]);
    }

    [Fact]
    public void Byte_order_mark_and_crlf_are_accepted()
    {
        string path = Write([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Good + "\r")], Encoding.UTF8.GetBytes(Good + "\r"), "  \r"u8.ToArray());
        Assert.Equal(2, JsonlDataset.ReadAll(path).Count);
    }

    [Theory]
    [InlineData("""{"prompt": "p\ud800", "chosen": "a", "rejected": "b"}""")]
    [InlineData("""{"prompt": "p", "chosen": "\udc00", "rejected": "b"}""")]
    public void Unpaired_surrogate_escape_names_file_and_line(string line)
    {
        string path = Write(Encoding.UTF8.GetBytes(line));
        Assert.Contains($"{path}:1: a string holds an unpaired UTF-16 surrogate", Assert.Throws<TrainingException>(() => JsonlDataset.ReadAll(path)).Message);
    }
}
