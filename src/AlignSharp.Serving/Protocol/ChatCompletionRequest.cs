using System.Text.Json;

namespace AlignSharp.Serving.Protocol;

/// <summary>
/// A checked POST /v1/chat/completions body. Sampling follows OpenAI's defaults, not the folder's generation_config.json:
/// temperature 1 and top_p 1 unless given (temperature 0 is greedy); without a seed each request draws its own.
/// </summary>
/// <param name="Model">The model the client names.</param>
/// <param name="Messages">The conversation as a JSON array of <c>{role, content}</c> with string content (text parts joined), ready for the chat template.</param>
/// <param name="MaxTokens">max_completion_tokens or max_tokens; null: as many as the context and the server allow.</param>
/// <param name="TopK">vLLM's extension (0 = off).</param>
/// <param name="MinP">vLLM's extension (0 = off).</param>
/// <param name="RepetitionPenalty">vLLM's extension (1 = off).</param>
/// <param name="Seed">The sampler seed of choice 0 (choice i uses GenerationOptions.ForRow(i)); null: drawn at random.</param>
/// <param name="TopLogprobs">Alternatives per token, 0–20; meaningful when <paramref name="Logprobs"/>.</param>
/// <param name="IncludeUsage">stream_options.include_usage: a last chunk with the usage counts.</param>
/// <param name="MaxTokensParam">Which name the limit came under ("max_completion_tokens" or "max_tokens"), for errors about it.</param>
public sealed record ChatCompletionRequest(
    string Model,
    JsonElement Messages,
    int? MaxTokens,
    float Temperature,
    float TopP,
    int TopK,
    float MinP,
    float RepetitionPenalty,
    long? Seed,
    IReadOnlyList<string> Stop,
    int N,
    bool Logprobs,
    int TopLogprobs,
    bool Stream,
    bool IncludeUsage,
    string MaxTokensParam = "max_tokens");
