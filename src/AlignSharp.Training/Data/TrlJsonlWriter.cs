using System.Text.Json;
using AlignSharp.Feedback.Store;

namespace AlignSharp.Training.Data;

/// <summary>
/// Writes <see cref="DatasetRow"/>s in TRL's dataset formats (https://huggingface.co/docs/trl/dataset_formats), the
/// same formats <see cref="JsonlDataset"/> reads, so datasets go out as they come in:
/// <list type="bullet">
/// <item>language modeling: <c>{"text": ...}</c> or <c>{"messages": [...]}</c></item>
/// <item>prompt-only: <c>{"prompt": ...}</c></item>
/// <item>prompt-completion: <c>{"prompt": ..., "completion": ...}</c></item>
/// <item>preference: <c>{"prompt": ..., "chosen": ..., "rejected": ...}</c>, plus <c>"margin"</c> when the row has one</item>
/// <item>unpaired preference: <c>{"prompt": ..., "completion": ..., "label": true|false}</c></item>
/// </list>
/// each standard (strings) or conversational (lists of messages, written as they were read, every key kept). A
/// preference row read in the implicit-prompt form is written with its prompt explicit. One file holds one kind and
/// one form (TRL loads a file as one table), and is written atomically (<see cref="JsonlFileWriter"/>).
/// </summary>
/// <example>
/// <code>
/// TrlJsonlWriter.WriteAll("pairs.jsonl", pairs.Select(p => TrlRows.Preference(p)));
/// </code>
/// </example>
public sealed class TrlJsonlWriter : IDisposable
{
    readonly JsonlFileWriter _file;
    DatasetKind? _kind;
    bool _conversational;

    /// <param name="path">The .jsonl file; its folder must exist; an existing file is replaced on <see cref="Commit"/>.</param>
    public TrlJsonlWriter(string path) => _file = new JsonlFileWriter(path);

    /// <summary>The target file, as given.</summary>
    public string Path => _file.Path;

    /// <summary>Rows written so far.</summary>
    public int Count => _file.Count;

    /// <summary>The kind of the rows written (null before the first).</summary>
    public DatasetKind? Kind => _kind;

    /// <summary>Writes one row.</summary>
    /// <exception cref="TrainingException">The row's kind or form differs from the rows before it.</exception>
    public void Write(DatasetRow row)
    {
        if (_kind is null) { _kind = row.Kind; _conversational = row.IsConversational; }
        else if (row.Kind != _kind || row.IsConversational != _conversational)
            throw new TrainingException($"{Path}: row {Count + 1} ({row.Origin}) is a {Form(row.Kind, row.IsConversational)} row but the file holds "
                + $"{Form(_kind.Value, _conversational)} rows; write each kind and form to its own file");
        _file.WriteLine(w => WriteRow(w, row));
    }

    /// <summary>Makes the file appear whole under <see cref="Path"/>; returns the row count.</summary>
    public int Commit() => _file.Commit();

    /// <summary>Discards the file unless <see cref="Commit"/> ran.</summary>
    public void Dispose() => _file.Dispose();

    /// <summary>Writes every row to <paramref name="path"/> atomically; returns the row count. Nothing is written if enumerating the rows throws.</summary>
    public static int WriteAll(string path, IEnumerable<DatasetRow> rows)
    {
        using var writer = new TrlJsonlWriter(path);
        foreach (var row in rows) writer.Write(row);
        return writer.Commit();
    }

    /// <summary>One row as its JSON line (without the newline).</summary>
    public static string ToJson(DatasetRow row)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, PromptJson.WriterOptions)) WriteRow(writer, row);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes one row as a JSON object, keys in TRL's order.</summary>
    public static void WriteRow(Utf8JsonWriter writer, DatasetRow row)
    {
        writer.WriteStartObject();
        switch (row)
        {
            case LanguageModelingRow lm:
                Field(writer, lm.Content.IsConversational ? "messages" : "text", lm.Content);
                break;
            case PromptOnlyRow p:
                Field(writer, "prompt", p.Prompt);
                break;
            case PromptCompletionRow pc:
                Field(writer, "prompt", pc.Prompt);
                Field(writer, "completion", pc.Completion);
                break;
            case PreferenceRow pr:
                Field(writer, "prompt", pr.Prompt);
                Field(writer, "chosen", pr.Chosen);
                Field(writer, "rejected", pr.Rejected);
                if (pr.Margin is { } margin) writer.WriteNumber("margin", margin);
                break;
            case UnpairedPreferenceRow u:
                Field(writer, "prompt", u.Prompt);
                Field(writer, "completion", u.Completion);
                writer.WriteBoolean("label", u.Label);
                break;
            default:
                throw new ArgumentException($"unknown row type {row.GetType().Name}", nameof(row));
        }
        writer.WriteEndObject();
    }

    static void Field(Utf8JsonWriter writer, string key, TextOrMessages value)
    {
        if (value.IsConversational)
        {
            writer.WritePropertyName(key);
            value.Messages.WriteTo(writer);
        }
        else writer.WriteString(key, value.Text);
    }

    static string Form(DatasetKind kind, bool conversational) => $"{(conversational ? "conversational" : "standard")} {DatasetKindNames.Describe(kind)}";
}
