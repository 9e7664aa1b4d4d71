using System.Text.Json;

namespace AlignSharp.Training.Data;

/// <summary>
/// One field of a dataset row: a string (standard format) or a list of <c>{role, content}</c> messages
/// (conversational format). Messages are kept as JSON so every field (tool_calls, name, ...) reaches the chat template.
/// </summary>
public sealed class TextOrMessages
{
    readonly string? _text;
    readonly JsonElement _messages;

    TextOrMessages(string? text, JsonElement messages) { _text = text; _messages = messages; }

    /// <summary>A standard (string) field.</summary>
    public static TextOrMessages FromText(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), default);

    /// <summary>A conversational field; <paramref name="messages"/> must be a JSON array (it is cloned, so its document may be disposed).</summary>
    public static TextOrMessages FromMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new ArgumentException($"messages must be a JSON array, got {messages.ValueKind}", nameof(messages));
        return new TextOrMessages(null, messages.Clone());
    }

    /// <summary>A conversational field built from (role, content) pairs.</summary>
    public static TextOrMessages FromMessages(params (string Role, string Content)[] messages) =>
        FromMessages(JsonSerializer.SerializeToElement(messages.Select(m => new Dictionary<string, string> { ["role"] = m.Role, ["content"] = m.Content })));

    /// <summary>True for a list of messages, false for a string.</summary>
    public bool IsConversational => _text is null;

    /// <summary>The string of a standard field.</summary>
    /// <exception cref="InvalidOperationException">The field is conversational.</exception>
    public string Text => _text ?? throw new InvalidOperationException("this field is a list of messages, not a string");

    /// <summary>The JSON array of a conversational field.</summary>
    /// <exception cref="InvalidOperationException">The field is a string.</exception>
    public JsonElement Messages => _text is null ? _messages : throw new InvalidOperationException("this field is a string, not a list of messages");

    /// <summary>The messages of a conversational field, in order.</summary>
    public IReadOnlyList<JsonElement> MessageList => Messages.EnumerateArray().ToList();

    /// <summary>String concatenation for standard fields, list concatenation for conversational ones (both must be the same form).</summary>
    public TextOrMessages Concat(TextOrMessages next)
    {
        if (IsConversational != next.IsConversational) throw new ArgumentException("cannot join a string and a list of messages", nameof(next));
        return IsConversational ? FromList(MessageList.Concat(next.MessageList)) : FromText(Text + next.Text);
    }

    /// <summary>A conversational field holding <paramref name="messages"/>.</summary>
    public static TextOrMessages FromList(IEnumerable<JsonElement> messages)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var m in messages) m.WriteTo(writer);
            writer.WriteEndArray();
        }
        using var doc = JsonDocument.Parse(stream.ToArray());
        return new TextOrMessages(null, doc.RootElement.Clone());
    }

    /// <inheritdoc/>
    public override string ToString() => _text ?? _messages.GetRawText();
}
