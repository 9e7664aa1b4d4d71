using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Store;

/// <summary>
/// The one JSON form of prompts and their messages, used by the feedback store, its label exports and the TRL
/// writers: a message is <c>{"role": ..., "content": ...}</c> (its text turns; a message's non-text contents such as
/// function calls are not carried), a prompt is <c>{"id", "messages", "category", "metadata"}</c> with the metadata
/// keys sorted ordinally, so equal prompts serialise to equal bytes.
/// </summary>
public static class PromptJson
{
    /// <summary>Compact, and non-ASCII text written as itself (UTF-8) rather than as \u escapes (<see cref="MinimalJsonEncoder"/>).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = MinimalJsonEncoder.Instance };

    static readonly string[] Roles = ["system", "user", "assistant", "tool"];

    /// <summary>Writes <paramref name="messages"/> as a JSON array of <c>{"role", "content"}</c> objects.</summary>
    public static void WriteMessages(Utf8JsonWriter writer, IEnumerable<ChatMessage> messages)
    {
        writer.WriteStartArray();
        foreach (var m in messages)
        {
            writer.WriteStartObject();
            writer.WriteString("role", m.Role.Value);
            writer.WriteString("content", m.Text);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary><paramref name="messages"/> as a JSON array element (detached from any document).</summary>
    public static JsonElement Messages(IEnumerable<ChatMessage> messages) => Element(w => WriteMessages(w, messages));

    /// <summary>Reads a <c>[{"role", "content"}, ...]</c> array; <paramref name="origin"/> names the place in errors.</summary>
    /// <exception cref="FeedbackException">Not a non-empty array of messages with a known role and string content.</exception>
    public static IReadOnlyList<ChatMessage> ReadMessages(JsonElement array, string origin)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            throw new FeedbackException($"{origin}: \"messages\" must be a non-empty list of {{\"role\", \"content\"}} objects");
        var list = new List<ChatMessage>();
        int i = 0;
        foreach (var m in array.EnumerateArray())
        {
            // Any role a ChatMessage may carry is read back (system, user, assistant and tool are the usual ones).
            if (m.ValueKind != JsonValueKind.Object
                || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(role.GetString())
                || !m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new FeedbackException($"{origin}: messages[{i}] must be {{\"role\": {string.Join("|", Roles)}, \"content\": string}}");
            list.Add(new ChatMessage(new ChatRole(role.GetString()!), content.GetString()));
            i++;
        }
        return list;
    }

    /// <summary>Writes the whole prompt: <c>{"id", "messages", "category", "metadata"}</c>.</summary>
    public static void Write(Utf8JsonWriter writer, PromptRecord prompt) => WriteObject(writer, prompt, withId: true);

    /// <summary>
    /// The prompt's content without its id — messages, category and metadata — as compact JSON with sorted metadata
    /// keys: what a signal source may read, so what a label's cache key hashes. Two prompts with equal content but
    /// different ids share their labels.
    /// </summary>
    public static string Canonical(PromptRecord prompt) => Text(w => WriteObject(w, prompt, withId: false));

    /// <summary>The whole prompt (<see cref="Write"/>) as a string.</summary>
    public static string Serialize(PromptRecord prompt) => Text(w => Write(w, prompt));

    /// <summary>Reads a prompt written by <see cref="Write"/>; <paramref name="origin"/> names the place in errors.</summary>
    /// <exception cref="FeedbackException">A key is missing or of the wrong type.</exception>
    public static PromptRecord Read(JsonElement prompt, string origin)
    {
        if (prompt.ValueKind != JsonValueKind.Object) throw new FeedbackException($"{origin}: the prompt must be a JSON object");
        string id = prompt.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String
            ? idElement.GetString()! : throw new FeedbackException($"{origin}: the prompt needs a string \"id\"");
        var messages = ReadMessages(prompt.TryGetProperty("messages", out var m) ? m : default, origin);
        string category = prompt.TryGetProperty("category", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
        var metadata = new Dictionary<string, string>();
        if (prompt.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
        {
            if (meta.ValueKind != JsonValueKind.Object) throw new FeedbackException($"{origin}: the prompt's \"metadata\" must be an object of strings");
            foreach (var p in meta.EnumerateObject())
                metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()!
                    : throw new FeedbackException($"{origin}: metadata \"{p.Name}\" must be a string");
        }
        return new PromptRecord(id, messages, category, metadata);
    }

    /// <summary>Reads a prompt from its <see cref="Serialize"/> text.</summary>
    public static PromptRecord Parse(string json, string origin)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return Read(doc.RootElement, origin);
        }
        catch (JsonException e) { throw new FeedbackException($"{origin}: the prompt is not valid JSON ({e.Message.Split(" Path:")[0]})"); }
    }

    static void WriteObject(Utf8JsonWriter writer, PromptRecord prompt, bool withId)
    {
        writer.WriteStartObject();
        if (withId) writer.WriteString("id", prompt.Id);
        writer.WritePropertyName("messages");
        WriteMessages(writer, prompt.Messages);
        writer.WriteString("category", prompt.Category);
        writer.WriteStartObject("metadata");
        foreach (var key in prompt.Metadata.Keys.Order(StringComparer.Ordinal)) writer.WriteString(key, prompt.Metadata[key]);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Runs <paramref name="write"/> on a compact writer and returns the UTF-8 text.</summary>
    internal static string Text(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions)) write(writer);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    static JsonElement Element(Action<Utf8JsonWriter> write)
    {
        using var doc = JsonDocument.Parse(Text(write));
        return doc.RootElement.Clone();
    }
}
