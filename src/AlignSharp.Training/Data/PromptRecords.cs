using System.Text.Json;
using AlignSharp.Feedback;
using Microsoft.Extensions.AI;

namespace AlignSharp.Training.Data;

/// <summary>
/// The prompts of a prompt-only dataset, as the feedback layer's records.
/// </summary>
/// <param name="Prompts">One record per row, in file order.</param>
/// <param name="Conversational">
/// True when the rows' prompts are message lists; false for strings (TRL's standard form, which TRL feeds to the model
/// as raw text, not through the chat template). Each standard prompt is held as one user turn; <see cref="TrlRows.Prompt"/>
/// with <c>conversational: false</c> gives its string back.
/// </param>
/// <param name="SkippedRows">Malformed rows skipped (skip_bad_rows).</param>
/// <param name="SkipReasons">The first skipped rows' messages (<c>file:line: reason</c>).</param>
public sealed record PromptSet(IReadOnlyList<PromptRecord> Prompts, bool Conversational, int SkippedRows, IReadOnlyList<string> SkipReasons);

/// <summary>
/// Prompt-only rows (TRL's <c>{"prompt": "text"}</c> or <c>{"prompt": [{"role", "content"}, ...]}</c>) as
/// <see cref="PromptRecord"/>s, the other direction of <see cref="TrlRows.PromptOnly"/>. The row's extra columns become
/// the record's metadata as strings (<see cref="PromptOnlyRow.Columns"/>), so verifiers and world checks read them as
/// TRL's reward functions read extra columns ("answer", "solution", "harmful": true → "true"); "id" is the record's id
/// (else the row's <c>file:line</c>) and "category" also its <see cref="PromptRecord.Category"/>.
/// </summary>
public static class PromptRecords
{
    /// <summary>Reads every prompt of a prompt-only JSONL file.</summary>
    /// <param name="path">The file; errors name it as given, with the line.</param>
    /// <param name="skipBadRows">Skip and count malformed rows (and rows whose prompt form or id is refused below) instead of throwing.</param>
    /// <exception cref="TrainingException">
    /// The file is missing or has no prompts; or, without <paramref name="skipBadRows"/>, a row is malformed, its prompt is
    /// in the other form than the first row's (TRL's dataset columns have one type), its id repeats an earlier row's, or
    /// a prompt message has no text content.
    /// </exception>
    public static PromptSet FromJsonl(string path, bool skipBadRows = false)
    {
        var dataset = new JsonlDataset(path, DatasetKind.PromptOnly, skipBadRows);
        var prompts = new List<PromptRecord>();
        var reasons = new List<string>();
        var lines = new Dictionary<string, string>(StringComparer.Ordinal);   // id → origin of its first row
        bool? conversational = null;
        int refused = 0;
        foreach (var row in dataset.Cast<PromptOnlyRow>())
        {
            try
            {
                var record = FromRow(row);
                conversational ??= row.IsConversational;
                if (row.IsConversational != conversational)
                    throw new TrainingException($"{row.Origin}: \"prompt\" is {Form(row.IsConversational)} but earlier rows hold {Form(conversational.Value)}; write every prompt in one form");
                if (!lines.TryAdd(record.Id, row.Origin))
                    throw new TrainingException($"{row.Origin}: id \"{record.Id}\" is also the id of {lines[record.Id]}; give every row a distinct \"id\" (or none: the row's file:line is used)");
                prompts.Add(record);
            }
            catch (TrainingException e) when (skipBadRows)
            {
                refused++;
                reasons.Add(e.Message);
            }
        }
        if (prompts.Count == 0)
            throw new TrainingException($"{path}: no prompts{FirstProblem(dataset.SkipReasons.Concat(reasons))}; a prompt-only dataset has one {{\"prompt\": ...}} object per line");
        var skipReasons = dataset.SkipReasons.Concat(reasons).Take(JsonlDataset.MaxSkipReasons).ToList();
        return new PromptSet(prompts, conversational!.Value, dataset.SkippedRows + refused, skipReasons);
    }

    /// <summary>One row as a record: its messages (a standard prompt as one user turn), id, category and metadata.</summary>
    /// <exception cref="TrainingException">A prompt message has no text content (only tool_calls).</exception>
    public static PromptRecord FromRow(PromptOnlyRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        IReadOnlyList<ChatMessage> messages = row.IsConversational
            ? Messages(row.Prompt.MessageList, row.Origin)
            : [new ChatMessage(ChatRole.User, row.Prompt.Text)];
        var metadata = row.Columns.Where(c => c.Key != "id").ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
        string id = row.Columns.TryGetValue("id", out var given) ? given : row.Origin;
        return new PromptRecord(id, messages, metadata.GetValueOrDefault("category", ""), metadata);
    }

    /// <summary>Messages already checked by the row parser (role, string content, or null content beside tool_calls).</summary>
    static List<ChatMessage> Messages(IReadOnlyList<JsonElement> list, string origin)
    {
        var messages = new List<ChatMessage>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            if (!list[i].TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new TrainingException($"{origin}: \"prompt\"[{i}] has no text content (only tool_calls); a prompt's messages must each have a string \"content\"");
            messages.Add(new ChatMessage(new ChatRole(list[i].GetProperty("role").GetString()!), content.GetString()));
        }
        return messages;
    }

    static string Form(bool conversational) => conversational ? "a list of messages" : "a string";

    static string FirstProblem(IEnumerable<string> reasons) => reasons.FirstOrDefault() is { } first ? "; first problem: " + first : "";
}
