using System.Text.Encodings.Web;
using System.Text.Json;
using AlignSharp.Training.Data;

namespace AlignSharp.Training.Methods;

/// <summary>
/// Writes dataset rows back out as TRL reads them (https://huggingface.co/docs/trl/dataset_formats): one JSON object per
/// line with the format's keys only — <c>text</c> or <c>messages</c>; <c>prompt</c> + <c>completion</c>;
/// <c>prompt</c> + <c>chosen</c> + <c>rejected</c> (+ <c>margin</c>); <c>prompt</c> + <c>completion</c> + <c>label</c> —
/// strings for standard rows, message lists (every field kept) for conversational ones. A preference row read in the
/// implicit-prompt form is written with its prompt explicit, which TRL reads the same way.
/// </summary>
public static class TrlDatasetExport
{
    /// <summary>Reads <paramref name="dataset"/> (every row checked) and writes it to <paramref name="path"/> atomically.</summary>
    /// <returns>The rows written, and the malformed rows left out (when the dataset skips bad rows).</returns>
    /// <exception cref="TrainingException">A malformed row (without skip_bad_rows), or no row at all.</exception>
    public static (int Rows, int Skipped) Write(JsonlDataset dataset, string path)
    {
        var lines = dataset.Select(ToJson).ToList();
        if (lines.Count == 0) throw new TrainingException($"{dataset.Path}: no usable examples{(dataset.SkippedRows > 0 ? $" ({dataset.SkippedRows} malformed rows skipped: {string.Join("; ", dataset.SkipReasons)})" : "")}");
        AtomicFile.WriteAllLines(path, lines);
        return (lines.Count, dataset.SkippedRows);
    }

    /// <summary>One row as a line of TRL-format JSONL.</summary>
    public static string ToJson(DatasetRow row)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            switch (row)
            {
                case LanguageModelingRow r:
                    Field(w, r.Content.IsConversational ? "messages" : "text", r.Content);
                    break;
                case PromptOnlyRow r:
                    Field(w, "prompt", r.Prompt);
                    break;
                case PromptCompletionRow r:
                    Field(w, "prompt", r.Prompt);
                    Field(w, "completion", r.Completion);
                    break;
                case PreferenceRow r:
                    Field(w, "prompt", r.Prompt);
                    Field(w, "chosen", r.Chosen);
                    Field(w, "rejected", r.Rejected);
                    if (r.Margin is { } margin) w.WriteNumber("margin", margin);
                    break;
                case UnpairedPreferenceRow r:
                    Field(w, "prompt", r.Prompt);
                    Field(w, "completion", r.Completion);
                    w.WriteBoolean("label", r.Label);
                    break;
                default:
                    throw new ArgumentException($"{row.Origin}: no TRL format for {row.GetType().Name}", nameof(row));
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Field(Utf8JsonWriter w, string name, TextOrMessages value)
    {
        w.WritePropertyName(name);
        if (value.IsConversational) value.Messages.WriteTo(w);
        else w.WriteStringValue(value.Text);
    }
}

/// <summary>Files written whole or not at all: to a temporary file beside the target, then moved over it.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    public static void WriteAllLines(string path, IEnumerable<string> lines) => WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
}
