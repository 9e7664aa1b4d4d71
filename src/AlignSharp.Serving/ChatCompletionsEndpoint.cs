using System.Text.Json;
using System.Threading.Channels;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Generation;
using AlignSharp.Serving.Protocol;
using Microsoft.AspNetCore.Http;

namespace AlignSharp.Serving;

/// <summary>
/// POST /v1/chat/completions: reads and checks the request (<see cref="ChatRequestReader"/>), renders the messages with the
/// chat template, checks the token budget against the server's limit and the context, takes the sequences on (429 past the
/// limit), and decodes the n choices through the batcher, choice i with <see cref="GenerationOptions.ForRow"/>(i). Answers
/// one JSON completion, or server-sent events when streaming. The client's disconnect (RequestAborted) cancels every
/// sequence of the request, which frees its batch slot at the next token boundary.
/// </summary>
internal sealed class ChatCompletionsEndpoint(ServedModel model, ServerOptions options, Admission admission, long created)
{
    private readonly TokenTexts _tokenTexts = new(model.Tokenizer);
    private readonly HashSet<int> _stopIds = [.. model.StopTokenIds];
    private static readonly byte[] DataPrefix = "data: "u8.ToArray(), EventEnd = "\n\n"u8.ToArray(), Done = "data: [DONE]\n\n"u8.ToArray();

    public async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        ChatCompletionRequest request;
        DecodeRequest[] sequences;
        try
        {
            var body = await HttpBodies.ReadAsync(context.Request, options.MaxRequestBytes, aborted);
            // A request of more choices than may ever be pending could never be served: 400, not 429.
            request = ChatRequestReader.Read(body, Math.Min(options.MaxN, options.MaxPendingSequences));
            if (request.Model != model.ModelId)
                throw new ApiError(404, $"The model `{request.Model}` does not exist. This server serves `{model.ModelId}` (GET /v1/models).",
                    "invalid_request_error", "model", "model_not_found");
            sequences = Prepare(request);
        }
        catch (ApiError e) { await HttpBodies.WriteErrorAsync(context.Response, e); return; }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested) { return; }
        catch (Exception e) { await HttpBodies.WriteErrorAsync(context.Response, AsApiError(e)); return; }

        if (!admission.TryEnter(sequences.Length))
        {
            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await HttpBodies.WriteErrorAsync(context.Response, new ApiError(429,
                $"The server is busy: {admission.Pending} sequences are running or queued (limit {options.MaxPendingSequences}); retry after {options.RetryAfterSeconds} s.",
                "requests", null, "rate_limit_exceeded"));
            return;
        }
        try
        {
            string id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
            if (request.Stream) await StreamAsync(context, request, sequences, id);
            else await CompleteAsync(context, request, sequences, id);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            admission.CountCancelled(sequences.Length);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            await HttpBodies.WriteErrorAsync(context.Response, AsApiError(e));
        }
        finally { admission.Exit(sequences.Length); }
    }

    /// <summary>The prompt ids and one decode request per choice, checked before anything is queued.</summary>
    private DecodeRequest[] Prepare(ChatCompletionRequest request)
    {
        int[] prompt;
        try { prompt = ChatEncoder.Encode(model.Tokenizer, model.Template, request.Messages, model.TemplateOptions).Ids; }
        catch (TemplateException e) { throw ApiError.Invalid("messages", $"The chat template refuses these messages: {e.Message}"); }

        int context = model.ContextLength, serverLimit = options.MaxTokens ?? context, room = context - prompt.Length;
        if (request.MaxTokens > serverLimit)
            throw ApiError.Invalid(request.MaxTokensParam, $"{request.MaxTokensParam} is too large: {request.MaxTokens}. This server allows at most {serverLimit} completion tokens.");
        if (room < 1 || request.MaxTokens > room)
            throw ApiError.Invalid("messages", $"This model's maximum context length is {context} tokens. However, you requested " +
                $"{prompt.Length + (request.MaxTokens ?? 1)} tokens ({prompt.Length} in the messages, {request.MaxTokens ?? 1} in the completion). " +
                "Please reduce the length of the messages or completion.", "context_length_exceeded");

        var generation = new GenerationOptions
        {
            MaxNewTokens = request.MaxTokens ?? Math.Min(serverLimit, room),
            Temperature = request.Temperature,
            TopP = request.TopP,
            TopK = request.TopK,
            MinP = request.MinP,
            RepetitionPenalty = request.RepetitionPenalty,
            StopTokenIds = model.StopTokenIds,
            StopStrings = request.Stop,
            // Without a seed, each request samples differently, as OpenAI's do.
            Seed = request.Seed is { } seed ? unchecked((ulong)seed) : (ulong)Random.Shared.NextInt64(),
        };
        var sequences = Enumerable.Range(0, request.N).Select(i => new DecodeRequest(prompt, generation.ForRow(i), request.TopLogprobs)).ToArray();
        try { foreach (var s in sequences) model.Batcher.Validate(s); }
        catch (GenerationOptionException e) { throw ApiError.Invalid(Param(e.Option), e.Message); }
        return sequences;
    }

    /// <summary>The request parameter behind a generation option.</summary>
    private static string Param(string? option) => option switch
    {
        null => "messages",
        "max_new_tokens" => "max_tokens",
        "stop_strings" => "stop",
        _ => option,
    };

    private async Task CompleteAsync(HttpContext context, ChatCompletionRequest request, DecodeRequest[] sequences, string id)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var tasks = sequences.Select(s => model.Batcher.GenerateAsync(s, cancel.Token)).ToArray();
        DecodedSequence[] results;
        try { results = await Task.WhenAll(tasks); }
        catch (Exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            // One choice failed: stop the others (their slots), then answer with the first failure.
            cancel.Cancel();
            try { await Task.WhenAll(tasks); } catch { }
            var failure = tasks.First(t => t.IsFaulted).Exception!.InnerException!;
            await HttpBodies.WriteErrorAsync(context.Response, AsApiError(failure));
            return;
        }
        var choices = results.Select((r, i) => new ChatChoice(i, new AssistantMessage("assistant", r.Result.Text),
            request.Logprobs ? new ChoiceLogprobs(Logprobs(r)) : null, r.Result.FinishReason)).ToArray();
        int completion = results.Sum(r => r.Result.Tokens.Length), prompt = sequences[0].Prompt.Length;
        var answer = new ChatCompletion(id, "chat.completion", Now(), model.ModelId, choices, new Usage(prompt, completion, prompt + completion));
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, answer, ServingJson.Default.ChatCompletion, context.RequestAborted);
    }

    /// <summary>Each generated token with its alternatives, but not the stop token that ended the choice (it has no text in the content).</summary>
    private List<TokenLogprobEntry> Logprobs(DecodedSequence sequence)
    {
        var r = sequence.Result;
        var entries = new List<TokenLogprobEntry>(r.Tokens.Length);
        for (int t = 0; t < r.Tokens.Length; t++)
        {
            if (t == r.Tokens.Length - 1 && r.FinishReason == "stop" && _stopIds.Contains(r.Tokens[t])) break;
            entries.Add(_tokenTexts.Entry(r.Tokens[t], r.LogProbs[t], sequence.TopLogprobs?[t]));
        }
        return entries;
    }

    private async Task StreamAsync(HttpContext context, ChatCompletionRequest request, DecodeRequest[] sequences, string id)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var steps = Channel.CreateUnbounded<(int Choice, DecodeStep Step)>(new UnboundedChannelOptions { SingleReader = true });
        // One producer per choice; the response is written by this request's thread alone.
        var producers = sequences.Select((s, i) => Task.Run(async () =>
        {
            await foreach (var step in model.Batcher.StreamAsync(s, cancel.Token).ConfigureAwait(false))
                await steps.Writer.WriteAsync((i, step), cancel.Token).ConfigureAwait(false);
        })).ToArray();
        _ = Task.WhenAll(producers).ContinueWith(t => steps.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        long now = Now();
        ChatCompletionChunk Chunk(IReadOnlyList<ChunkChoice> choices, Usage? usage = null) => new(id, "chat.completion.chunk", now, model.ModelId, choices, usage);
        try
        {
            // OpenAI's first event gives each choice its role (and empty content) before any token.
            for (int i = 0; i < sequences.Length; i++)
                await WriteEventAsync(response, Chunk([new ChunkChoice(i, new ChunkDelta("assistant", ""), null, null)]), context.RequestAborted);
            var tokens = new int[sequences.Length];
            await foreach (var (choice, step) in steps.Reader.ReadAllAsync(context.RequestAborted))
            {
                tokens[choice]++;
                bool terminalStop = step.FinishReason == "stop" && _stopIds.Contains(step.TokenId);
                var logprobs = request.Logprobs && !terminalStop ? new ChoiceLogprobs([_tokenTexts.Entry(step.TokenId, step.Logprob, step.Top)]) : null;
                if (step.TextDelta.Length > 0 || logprobs is not null)
                    await WriteEventAsync(response, Chunk([new ChunkChoice(choice, new ChunkDelta(Content: step.TextDelta), logprobs, null)]), context.RequestAborted);
                if (step.FinishReason is { } finish)
                    await WriteEventAsync(response, Chunk([new ChunkChoice(choice, new ChunkDelta(), null, finish)]), context.RequestAborted);
            }
            if (request.IncludeUsage)
            {
                int prompt = sequences[0].Prompt.Length, completion = tokens.Sum();
                await WriteEventAsync(response, Chunk([], new Usage(prompt, completion, prompt + completion)), context.RequestAborted);
            }
            await response.Body.WriteAsync(Done, context.RequestAborted);
            await response.Body.FlushAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            // The status line is sent: the failure travels as an error event, which OpenAI's SDKs raise as an API error.
            var error = AsApiError(e);
            await WriteEventAsync(response, error.Body, context.RequestAborted);
        }
        finally
        {
            cancel.Cancel();
            try { await Task.WhenAll(producers); } catch { }
        }
    }

    private static ApiError AsApiError(Exception e) => e switch
    {
        ApiError api => api,
        GenerationOptionException g => ApiError.Invalid(Param(g.Option), g.Message),
        _ => new ApiError(500, $"The server had an error while processing your request: {e.GetType().Name}: {e.Message}", "server_error"),
    };

    private static async Task WriteEventAsync<T>(HttpResponse response, T payload, CancellationToken cancellationToken)
    {
        byte[] json = payload switch
        {
            ChatCompletionChunk chunk => JsonSerializer.SerializeToUtf8Bytes(chunk, ServingJson.Default.ChatCompletionChunk),
            ErrorResponse error => JsonSerializer.SerializeToUtf8Bytes(error, ServingJson.Default.ErrorResponse),
            _ => throw new ArgumentException($"no event shape for {typeof(T).Name}"),
        };
        await response.Body.WriteAsync(DataPrefix, cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync(EventEnd, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private long Now() => Math.Max(created, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
}
