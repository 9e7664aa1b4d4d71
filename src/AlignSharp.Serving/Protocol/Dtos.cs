using System.Text.Json.Serialization;

namespace AlignSharp.Serving.Protocol;

// The response shapes of OpenAI's chat-completions API (snake_case on the wire: ServingJson's naming policy).
// Nulls are written where OpenAI writes them ("logprobs": null, "finish_reason": null) and left out where it leaves them out.

/// <summary><c>{"error": {...}}</c>.</summary>
public sealed record ErrorResponse(ErrorDetail Error);

/// <summary>OpenAI's error object.</summary>
public sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);

/// <summary>A non-streaming answer (<c>object: "chat.completion"</c>).</summary>
public sealed record ChatCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage);

/// <summary>One choice of a completion.</summary>
public sealed record ChatChoice(int Index, AssistantMessage Message, ChoiceLogprobs? Logprobs, string FinishReason);

/// <summary>The generated message.</summary>
public sealed record AssistantMessage(string Role, string Content);

/// <summary>Token log-probs of a choice (or of a chunk's new tokens).</summary>
public sealed record ChoiceLogprobs(IReadOnlyList<TokenLogprobEntry> Content);

/// <summary>A generated token: its text, log-probability, UTF-8 bytes and the most likely alternatives at its position.</summary>
public sealed record TokenLogprobEntry(string Token, double Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<TopLogprobEntry> TopLogprobs);

/// <summary>An alternative token at a position.</summary>
public sealed record TopLogprobEntry(string Token, double Logprob, IReadOnlyList<int> Bytes);

/// <summary>Token counts: the prompt once, and the completions of every choice together.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>A server-sent event of a streamed completion (<c>object: "chat.completion.chunk"</c>).</summary>
public sealed record ChatCompletionChunk(string Id, string Object, long Created, string Model, IReadOnlyList<ChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage = null);

/// <summary>One choice's part of a chunk.</summary>
public sealed record ChunkChoice(int Index, ChunkDelta Delta, ChoiceLogprobs? Logprobs, string? FinishReason);

/// <summary>What a chunk adds to the message: the role (first chunk), then content.</summary>
public sealed record ChunkDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content = null);

/// <summary>GET /v1/models.</summary>
public sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

/// <summary>One served model.</summary>
public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy);

/// <summary>GET /health.</summary>
public sealed record HealthStatus(string Status, string Model, int Running, int Waiting);

/// <summary>System.Text.Json source generation for every shape the server writes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(HealthStatus))]
public sealed partial class ServingJson : JsonSerializerContext;
