using System.Text.Json;

namespace AlignSharp.Serving.Protocol;

/// <summary>
/// Reads and checks a chat-completions body the way OpenAI's API does: every field's type and range, named in the 400
/// answer (<c>param</c>); fields this server cannot honour are refused rather than silently ignored, except those that do
/// not change the output (user, metadata, ...). A null value means "not given", as in OpenAI's API.
/// </summary>
public static class ChatRequestReader
{
    /// <summary>Accepted and without effect on the completion.</summary>
    private static readonly HashSet<string> Ignored = ["user", "metadata", "store", "service_tier", "parallel_tool_calls", "safety_identifier", "prompt_cache_key"];

    /// <summary>OpenAI parameters this server does not implement (answered as such, not as unknown).</summary>
    private static readonly HashSet<string> Unsupported =
        ["functions", "function_call", "modalities", "audio", "prediction", "reasoning_effort", "web_search_options", "verbosity"];

    /// <summary>Parses <paramref name="body"/> (UTF-8 JSON).</summary>
    /// <exception cref="ApiError">400, naming the parameter at fault.</exception>
    public static ChatCompletionRequest Read(ReadOnlyMemory<byte> body, int maxN)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException e)
        {
            throw ApiError.Invalid(null, $"We could not parse the JSON body of your request: {e.Message} " +
                "(the body must be a JSON object; see https://platform.openai.com/docs/api-reference/chat/create)");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ApiError.Invalid(null, $"The request body must be a JSON object (got {Kind(root)}).");

            string? model = null;
            JsonElement? messages = null;
            int? maxTokens = null, maxCompletionTokens = null, topLogprobsGiven = null;
            double temperature = 1, topP = 1, minP = 0, repetitionPenalty = 1;
            int topK = 0, n = 1;
            long? seed = null;
            IReadOnlyList<string> stop = [];
            bool logprobs = false, stream = false;
            bool? includeUsage = null;

            foreach (var p in root.EnumerateObject())
            {
                var v = p.Value;
                if (v.ValueKind == JsonValueKind.Null) continue;
                string name = p.Name;
                switch (name)
                {
                    case "model": model = String(v, name); break;
                    case "messages": messages = Messages(v); break;
                    case "max_tokens": maxTokens = Int(v, name, min: 1); break;
                    case "max_completion_tokens": maxCompletionTokens = Int(v, name, min: 1); break;
                    case "temperature": temperature = Number(v, name, 0, 2, "[0, 2] (0 = greedy)"); break;
                    case "top_p": topP = Number(v, name, 0, 1, "[0, 1]"); break;
                    case "top_k": topK = Int(v, name, min: -1); break;
                    case "min_p": minP = Number(v, name, 0, 1, "[0, 1]"); break;
                    case "repetition_penalty":
                        repetitionPenalty = Number(v, name, double.Epsilon, double.MaxValue, "(0, ∞) (1 = off)"); break;
                    case "seed": seed = Long(v, name); break;
                    case "stop": stop = Stop(v); break;
                    case "n": n = Int(v, name, min: 1); break;
                    case "logprobs": logprobs = Bool(v, name); break;
                    case "top_logprobs": topLogprobsGiven = Int(v, name, min: 0); break;
                    case "stream": stream = Bool(v, name); break;
                    case "stream_options": includeUsage = StreamOptions(v); break;
                    case "frequency_penalty" or "presence_penalty":
                        if (Number(v, name, -2, 2, "[-2, 2]") != 0)
                            throw ApiError.Invalid(name, $"{name} is not supported by this server; send 0 or leave it out (repetition_penalty, as in vLLM, is)");
                        break;
                    case "logit_bias":
                        if (v.ValueKind != JsonValueKind.Object) throw Type(name, "an object", v);
                        if (v.EnumerateObject().Any()) throw ApiError.Invalid(name, "logit_bias is not supported by this server; send {} or leave it out");
                        break;
                    case "response_format":
                        if (v.ValueKind != JsonValueKind.Object || !v.TryGetProperty("type", out var format) || format.ValueKind != JsonValueKind.String)
                            throw ApiError.Invalid(name, "response_format must be an object with a string \"type\"");
                        if (format.GetString() != "text")
                            throw ApiError.Invalid("response_format.type", $"response_format type '{format.GetString()}' is not supported by this server (only \"text\")");
                        break;
                    case "tools":
                        if (v.ValueKind != JsonValueKind.Array) throw Type(name, "an array", v);
                        if (v.GetArrayLength() > 0) throw ApiError.Invalid(name, "tools are not supported by this server; leave tools out");
                        break;
                    case "tool_choice":
                        if (!(v.ValueKind == JsonValueKind.String && v.GetString() == "none"))
                            throw ApiError.Invalid(name, "tool_choice is not supported by this server (only \"none\")");
                        break;
                    default:
                        if (Ignored.Contains(name)) break;
                        if (Unsupported.Contains(name)) throw ApiError.Invalid(name, $"{name} is not supported by this server");
                        throw ApiError.Invalid(name, $"Unrecognized request argument supplied: {name}");
                }
            }

            if (model is null) throw ApiError.Invalid("model", "you must provide a model parameter");
            if (messages is null) throw ApiError.Invalid("messages", "Missing required parameter: 'messages'.");
            if (n > maxN) throw ApiError.Invalid("n", $"n must be at most {maxN} on this server (got {n})");
            if (topLogprobsGiven is { } k)
            {
                if (k > 20) throw ApiError.Invalid("top_logprobs", $"top_logprobs must be in [0, 20] (got {k})");
                if (!logprobs) throw ApiError.Invalid("top_logprobs", "logprobs must be set to true if top_logprobs is used");
            }
            if (includeUsage is not null && !stream) throw ApiError.Invalid("stream_options", "stream_options is only allowed when stream is true");
            // OpenAI's two names of one limit: the newer wins when both are given.
            int? limit = maxCompletionTokens ?? maxTokens;
            // top_p 0 keeps only the most likely token: greedy, which the sampler reaches through temperature 0.
            if (topP == 0) { temperature = 0; topP = 1; }
            return new ChatCompletionRequest(model, messages.Value, limit, (float)temperature, (float)topP, topK < 0 ? 0 : topK, (float)minP,
                (float)repetitionPenalty, seed, stop, n, logprobs, logprobs ? topLogprobsGiven ?? 0 : 0, stream, includeUsage ?? false,
                maxCompletionTokens is null ? "max_tokens" : "max_completion_tokens");
        }
    }

    /// <summary>The messages as template input: role and string content (text parts joined by newlines, as vLLM joins them), and name.</summary>
    private static JsonElement Messages(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Array) throw Type("messages", "an array", v);
        if (v.GetArrayLength() == 0) throw ApiError.Invalid("messages", "messages must contain at least one message");
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            int i = 0;
            foreach (var message in v.EnumerateArray())
            {
                string at = $"messages[{i}]";
                if (message.ValueKind != JsonValueKind.Object) throw Type(at, "an object", message);
                string? role = null, content = null, name = null;
                foreach (var p in message.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Null) continue;
                    switch (p.Name)
                    {
                        case "role": role = String(p.Value, $"{at}.role"); break;
                        case "content": content = Content(p.Value, $"{at}.content"); break;
                        case "name": name = String(p.Value, $"{at}.name"); break;
                        default: throw ApiError.Invalid($"{at}.{p.Name}", $"{at}.{p.Name} is not supported by this server");
                    }
                }
                role = role switch
                {
                    null => throw ApiError.Invalid($"{at}.role", $"Missing required parameter: '{at}.role'."),
                    "system" or "user" or "assistant" => role,
                    // OpenAI's newer name of the system role; chat templates know "system".
                    "developer" => "system",
                    "tool" or "function" => throw ApiError.Invalid($"{at}.role", $"{role} messages are not supported by this server"),
                    _ => throw ApiError.Invalid($"{at}.role", $"Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user' and 'assistant'."),
                };
                if (content is null && role != "assistant") throw ApiError.Invalid($"{at}.content", $"Missing required parameter: '{at}.content'.");
                w.WriteStartObject();
                w.WriteString("role", role);
                w.WriteString("content", content ?? "");
                if (name is not null) w.WriteString("name", name);
                w.WriteEndObject();
                i++;
            }
            w.WriteEndArray();
        }
        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }

    private static string Content(JsonElement v, string at)
    {
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
        if (v.ValueKind != JsonValueKind.Array) throw Type(at, "a string or an array of content parts", v);
        var texts = new List<string>();
        int j = 0;
        foreach (var part in v.EnumerateArray())
        {
            string partAt = $"{at}[{j++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw ApiError.Invalid(partAt, $"{partAt} must be an object with a string \"type\"");
            if (type.GetString() != "text")
                throw ApiError.Invalid($"{partAt}.type", $"content parts of type '{type.GetString()}' are not supported by this server (only \"text\")");
            if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                throw ApiError.Invalid($"{partAt}.text", $"Missing required parameter: '{partAt}.text'.");
            texts.Add(text.GetString()!);
        }
        return string.Join('\n', texts);
    }

    private static IReadOnlyList<string> Stop(JsonElement v)
    {
        var stops = v.ValueKind switch
        {
            JsonValueKind.String => [v.GetString()!],
            JsonValueKind.Array => v.EnumerateArray().Select((s, i) => String(s, $"stop[{i}]")).ToList(),
            _ => throw Type("stop", "a string or an array of strings", v),
        };
        if (stops.Count > 4) throw ApiError.Invalid("stop", $"stop may hold at most 4 sequences (got {stops.Count})");
        if (stops.Any(s => s.Length == 0)) throw ApiError.Invalid("stop", "stop sequences must not be empty");
        return stops;
    }

    private static bool? StreamOptions(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) throw Type("stream_options", "an object", v);
        bool include = false;
        foreach (var p in v.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Null) continue;
            if (p.Name == "include_usage") include = Bool(p.Value, "stream_options.include_usage");
            else if (p.Name != "include_obfuscation") throw ApiError.Invalid($"stream_options.{p.Name}", $"Unrecognized request argument supplied: stream_options.{p.Name}");
        }
        return include;
    }

    private static string String(JsonElement v, string name) => v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Type(name, "a string", v);

    private static bool Bool(JsonElement v, string name) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Type(name, "a boolean", v),
    };

    private static int Int(JsonElement v, string name, int min)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long l)) throw Type(name, "an integer", v);
        if (l < min) throw ApiError.Invalid(name, $"{name} must be at least {min} (got {l})");
        return (int)Math.Min(l, int.MaxValue);
    }

    private static long Long(JsonElement v, string name) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l) ? l : throw Type(name, "an integer", v);

    private static double Number(JsonElement v, string name, double min, double max, string range)
    {
        if (v.ValueKind != JsonValueKind.Number) throw Type(name, "a number", v);
        double d = v.GetDouble();
        if (!(d >= min && d <= max)) throw ApiError.Invalid(name, $"{name} must be in {range} (got {v.GetRawText()})");
        return d;
    }

    private static ApiError Type(string name, string expected, JsonElement got) =>
        ApiError.Invalid(name, $"Invalid type for '{name}': expected {expected}, but got {Kind(got)} instead.");

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => v.TryGetInt64(out _) ? "an integer" : "a decimal",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
