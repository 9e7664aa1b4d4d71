using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AlignSharp.Models.Generation;

namespace AlignSharp.Serving.Tests;

/// <summary>The wire format with a plain HttpClient: the shapes OpenAI's API documents, its error bodies, and the limits.</summary>
public class HttpProtocolTests
{
    private static object Hello(object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["model"] = TinyServer.ModelId, ["messages"] = new[] { new { role = "user", content = "Hello" } }, ["max_tokens"] = 4, ["temperature"] = 0 };
        if (extra is not null) foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        return body;
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type, string? param, string? code = null, string? says = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await TinyServer.JsonAsync(response))["error"]!;
        Assert.Equal(type, (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal(code, (string?)error["code"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        if (says is not null) Assert.Contains(says, (string)error["message"]!);
        // OpenAI's shape: all four keys present, null or not.
        Assert.Equal(["message", "type", "param", "code"], error.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Completion_has_openais_shape()
    {
        await using var s = await TinyServer.StartAsync();
        using var response = await s.PostAsync(TinyServer.Body(Hello()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await TinyServer.JsonAsync(response);
        Assert.Equal("chat.completion", (string?)json["object"]);
        Assert.StartsWith("chatcmpl-", (string?)json["id"]);
        Assert.True((long)json["created"]! > 1_700_000_000);
        Assert.Equal(TinyServer.ModelId, (string?)json["model"]);
        var choice = json["choices"]![0]!;
        Assert.Equal(0, (int)choice["index"]!);
        Assert.Equal("assistant", (string?)choice["message"]!["role"]);
        Assert.NotNull((string?)choice["message"]!["content"]);
        Assert.Contains((string?)choice["finish_reason"], new[] { "stop", "length" });
        Assert.True(choice.AsObject().ContainsKey("logprobs") && choice["logprobs"] is null);
        var usage = json["usage"]!;
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task Content_may_be_an_array_of_text_parts()
    {
        await using var s = await TinyServer.StartAsync();
        using var plain = await s.PostAsync(TinyServer.Body(new { model = TinyServer.ModelId, max_tokens = 6, temperature = 0,
            messages = new[] { new { role = "system", content = "Be brief." }, new { role = "user", content = "Hi\nthere" } } }));
        using var parts = await s.PostAsync(TinyServer.Body(new { model = TinyServer.ModelId, max_tokens = 6, temperature = 0,
            messages = new object[] { new { role = "developer", content = new[] { new { type = "text", text = "Be brief." } } },
                new { role = "user", content = new[] { new { type = "text", text = "Hi" }, new { type = "text", text = "there" } } } } }));
        Assert.Equal(HttpStatusCode.OK, parts.StatusCode);
        var a = await TinyServer.JsonAsync(plain);
        var b = await TinyServer.JsonAsync(parts);
        // Text parts are joined with newlines, and "developer" is the system role: the same prompt, the same answer.
        Assert.Equal((int)a["usage"]!["prompt_tokens"]!, (int)b["usage"]!["prompt_tokens"]!);
        Assert.Equal((string?)a["choices"]![0]!["message"]!["content"], (string?)b["choices"]![0]!["message"]!["content"]);
    }

    [Fact]
    public async Task N_choices_each_use_their_own_seed()
    {
        await using var s = await TinyServer.StartAsync();
        using var response = await s.PostAsync(TinyServer.Body(new { model = TinyServer.ModelId, messages = new[] { new { role = "user", content = "Pick one" } },
            max_tokens = 10, temperature = 1.0, seed = 7, n = 3 }));
        var json = await TinyServer.JsonAsync(response);
        var choices = json["choices"]!.AsArray();
        Assert.Equal(3, choices.Count);
        var options = new GenerationOptions { Temperature = 1f, Seed = 7, MaxNewTokens = 10 };
        int completion = 0;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, (int)choices[i]!["index"]!);
            var reference = s.Reference("Pick one", options.ForRow(i));
            Assert.Equal(reference.Text, (string?)choices[i]!["message"]!["content"]);
            completion += reference.Tokens.Length;
        }
        Assert.Equal(completion, (int)json["usage"]!["completion_tokens"]!);
        Assert.Equal(TinyServer.Prompt("Pick one").Length, (int)json["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task Stream_is_server_sent_events_role_first_then_content_finish_usage_and_done()
    {
        await using var s = await TinyServer.StartAsync();
        using var whole = await s.PostAsync(TinyServer.Body(Hello(new { max_tokens = 10 })));
        var wholeJson = await TinyServer.JsonAsync(whole);
        string expected = (string)wholeJson["choices"]![0]!["message"]!["content"]!;

        using var response = await s.PostAsync(TinyServer.Body(Hello(new { max_tokens = 10, stream = true, stream_options = new { include_usage = true } })));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string raw = await response.Content.ReadAsStringAsync();
        var events = raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.Single(chunks.Select(c => (string?)c["id"]).Distinct());
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);

        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        var content = chunks[..^1].Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? "");
        Assert.Equal(expected, string.Concat(content));
        var finishes = chunks[..^1].Select(c => (string?)c["choices"]![0]!["finish_reason"]).Where(f => f is not null).ToList();
        Assert.Equal((string?)wholeJson["choices"]![0]!["finish_reason"], Assert.Single(finishes));
        // The finish chunk is the last of the choice, with an empty delta.
        Assert.Empty(chunks[^2]["choices"]![0]!["delta"]!.AsObject());
        Assert.NotNull((string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Equal((int)wholeJson["usage"]!["completion_tokens"]!, (int)usage["usage"]!["completion_tokens"]!);
        Assert.Equal((int)wholeJson["usage"]!["prompt_tokens"]!, (int)usage["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task Streamed_choices_are_told_apart_by_index_and_match_the_whole_answers()
    {
        await using var s = await TinyServer.StartAsync();
        var request = new { model = TinyServer.ModelId, messages = new[] { new { role = "user", content = "Two please" } }, max_tokens = 9, temperature = 1.0, seed = 3, n = 2 };
        var whole = await TinyServer.JsonAsync(await s.PostAsync(TinyServer.Body(request)));
        using var response = await s.PostAsync(TinyServer.Body(new { request.model, request.messages, request.max_tokens, request.temperature, request.seed, request.n, stream = true }));
        var chunks = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e != "data: [DONE]").Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!).ToList();
        for (int i = 0; i < 2; i++)
        {
            var mine = chunks.Where(c => (int)c["index"]! == i).ToList();
            Assert.Equal("assistant", (string?)mine[0]["delta"]!["role"]);
            Assert.Equal((string?)whole["choices"]![i]!["message"]!["content"], string.Concat(mine.Select(c => (string?)c["delta"]!["content"] ?? "")));
            Assert.Equal((string?)whole["choices"]![i]!["finish_reason"], mine.Select(c => (string?)c["finish_reason"]).Single(f => f is not null));
        }
    }

    [Fact]
    public async Task Models_and_health()
    {
        await using var s = await TinyServer.StartAsync();
        var models = await TinyServer.JsonAsync(await s.Http.GetAsync("v1/models"));
        Assert.Equal("list", (string?)models["object"]);
        var card = models["data"]!.AsArray().Single()!;
        Assert.Equal(TinyServer.ModelId, (string?)card["id"]);
        Assert.Equal("model", (string?)card["object"]);
        Assert.Equal("alignsharp", (string?)card["owned_by"]);
        Assert.True((long)card["created"]! > 1_700_000_000);
        Assert.Equal(TinyServer.ModelId, (string?)(await TinyServer.JsonAsync(await s.Http.GetAsync($"v1/models/{TinyServer.ModelId}")))["id"]);
        await AssertErrorAsync(await s.Http.GetAsync("v1/models/other"), HttpStatusCode.NotFound, "invalid_request_error", "model", "model_not_found");

        using var health = await s.Http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", (string?)(await TinyServer.JsonAsync(health))["status"]);
        await AssertErrorAsync(await s.Http.GetAsync("v1/nothing"), HttpStatusCode.NotFound, "invalid_request_error", null, "unknown_url");
    }

    public static TheoryData<string, string?, string> BadRequests => new()
    {
        // body, the param the error names, words of its message
        { """{"model":"tiny-chat","messages":[]}""", "messages", "at least one message" },
        { """{"model":"tiny-chat"}""", "messages", "Missing required parameter" },
        { """{"messages":[{"role":"user","content":"x"}]}""", "model", "model" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"temperature":"hot"}""", "temperature", "expected a number" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"temperature":2.5}""", "temperature", "[0, 2]" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"top_p":1.5}""", "top_p", "[0, 1]" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "max_tokens", "at least 1" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"max_tokens":2.5}""", "max_tokens", "expected an integer" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"max_completion_tokens":-3}""", "max_completion_tokens", "at least 1" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"max_tokens":100}""", "max_tokens", "at most 64" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"max_completion_tokens":100}""", "max_completion_tokens", "at most 64" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"n":5}""", "n", "at most 4" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"n":0}""", "n", "at least 1" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21}""", "top_logprobs", "[0, 20]" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"top_logprobs":2}""", "top_logprobs", "logprobs must be set to true" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"logprobs":"yes"}""", "logprobs", "expected a boolean" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}""", "stop", "at most 4" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"stop":[""]}""", "stop", "must not be empty" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"stop":7}""", "stop", "a string or an array" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"seed":"abc"}""", "seed", "expected an integer" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}""", "stream_options", "only allowed when stream is true" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"frobnicate":1}""", "frobnicate", "Unrecognized request argument" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}""", "tools", "not supported" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"presence_penalty":0.5}""", "presence_penalty", "not supported" },
        { """{"model":"tiny-chat","messages":[{"role":"wizard","content":"x"}]}""", "messages[0].role", "Invalid value" },
        { """{"model":"tiny-chat","messages":[{"role":"user"}]}""", "messages[0].content", "Missing required parameter" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type", "not supported" },
        { """{"model":"tiny-chat","messages":[{"role":"user","content":"x","tool_calls":[]}]}""", "messages[0].tool_calls", "not supported" },
        { """{"model":"tiny-chat","messages":"hello"}""", "messages", "expected an array" },
        { """[1,2]""", null, "must be a JSON object" },
        { """{"model":"tiny-chat",""", null, "could not parse the JSON body" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_400_naming_the_parameter(string body, string? param, string says)
    {
        await using var s = await TinyServer.StartAsync(new ServerOptions { MaxTokens = 64, MaxN = 4 });
        await AssertErrorAsync(await s.PostAsync(body), HttpStatusCode.BadRequest, "invalid_request_error", param, says: says);
        Assert.Equal(0, s.Server.PendingSequences);
    }

    [Fact]
    public async Task A_prompt_and_completion_past_the_context_is_refused_with_context_length_exceeded()
    {
        await using var s = await TinyServer.StartAsync(context: 64);
        int prompt = TinyServer.Prompt("Hello").Length;
        await AssertErrorAsync(await s.PostAsync(TinyServer.Body(Hello(new { max_tokens = 64 - prompt + 1 }))), HttpStatusCode.BadRequest,
            "invalid_request_error", "messages", "context_length_exceeded", $"maximum context length is 64 tokens");
        using var fits = await s.PostAsync(TinyServer.Body(Hello(new { max_tokens = 64 - prompt })));
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        // Without max_tokens the completion may fill the context.
        using var open = await s.PostAsync(TinyServer.Body(new { model = TinyServer.ModelId, messages = new[] { new { role = "user", content = "Hello" } }, temperature = 0 }));
        Assert.True((int)(await TinyServer.JsonAsync(open))["usage"]!["total_tokens"]! <= 64);
    }

    [Fact]
    public async Task Another_model_name_is_404_model_not_found()
    {
        await using var s = await TinyServer.StartAsync();
        await AssertErrorAsync(await s.PostAsync("""{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}"""),
            HttpStatusCode.NotFound, "invalid_request_error", "model", "model_not_found", "gpt-4o");
    }

    [Fact]
    public async Task Without_the_api_key_every_route_is_401()
    {
        await using var s = await TinyServer.StartAsync(new ServerOptions { ApiKey = "sk-right" });
        using var anonymous = new HttpClient { BaseAddress = s.Server.BaseAddress };
        foreach (var path in new[] { "v1/models", "health" })
        {
            using var r = await anonymous.GetAsync(path);
            await AssertErrorAsync(r, HttpStatusCode.Unauthorized, "invalid_request_error", null, says: "didn't provide an API key");
            Assert.Equal("Bearer", r.Headers.WwwAuthenticate.Single().Scheme);
        }
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(TinyServer.Body(Hello()), Encoding.UTF8, "application/json") };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-wrong");
        using var wrongResponse = await anonymous.SendAsync(wrong);
        await AssertErrorAsync(wrongResponse, HttpStatusCode.Unauthorized, "invalid_request_error", null, "invalid_api_key");
        // The answer never echoes a key.
        Assert.DoesNotContain("sk-", await wrongResponse.Content.ReadAsStringAsync());
        using var right = await s.PostAsync(TinyServer.Body(Hello()));
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.DoesNotContain("sk-right", s.Server.ToString() + new ServerOptions { ApiKey = "sk-right" });
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_with_or_without_content_length()
    {
        await using var s = await TinyServer.StartAsync(new ServerOptions { MaxRequestBytes = 2048 });
        string big = TinyServer.Body(Hello(new { messages = new[] { new { role = "user", content = new string('x', 4000) } } }));
        await AssertErrorAsync(await s.PostAsync(big), HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", null, "request_too_large", "at most 2048 bytes");

        // Chunked: no Content-Length, so the limit is found while reading.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await AssertErrorAsync(await s.Http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", null, "request_too_large");

        using var small = await s.PostAsync(TinyServer.Body(Hello()));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    /// <summary>A streamed request that runs for seconds (8000 tokens on a long-context model), open until the test drops it.</summary>
    private static async Task<(HttpResponseMessage Response, Stream Body)> StartLongStreamAsync(TinyServer s)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(TinyServer.Body(Hello(new { max_tokens = 8000, stream = true })), Encoding.UTF8, "application/json"),
        };
        var response = await s.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        // The first event (the role) is written once the sequence is taken on.
        var first = new byte[6];
        await body.ReadExactlyAsync(first);
        Assert.Equal("data: ", Encoding.ASCII.GetString(first));
        return (response, body);
    }

    [Fact]
    public async Task Too_many_sequences_in_flight_is_429_with_retry_after()
    {
        await using var s = await TinyServer.StartAsync(new ServerOptions { MaxPendingSequences = 2, RetryAfterSeconds = 3 }, context: 8192);
        var (response, body) = await StartLongStreamAsync(s);
        Assert.Equal(1, s.Server.PendingSequences);

        // One more sequence fits; two do not.
        using var busy = await s.PostAsync(TinyServer.Body(Hello(new { n = 2 })));
        await AssertErrorAsync(busy, HttpStatusCode.TooManyRequests, "requests", null, "rate_limit_exceeded", "limit 2");
        Assert.Equal(TimeSpan.FromSeconds(3), busy.Headers.RetryAfter?.Delta);
        // n above the limit could never be served: 400, not 429.
        await AssertErrorAsync(await s.PostAsync(TinyServer.Body(Hello(new { n = 3 }))), HttpStatusCode.BadRequest, "invalid_request_error", "n");

        body.Dispose();
        response.Dispose();
        await TinyServer.WaitUntilAsync(() => s.Server.PendingSequences == 0, "the dropped stream to free its slot");
        using var after = await s.PostAsync(TinyServer.Body(Hello(new { n = 2 })));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_generation_frees_its_slot()
    {
        await using var s = await TinyServer.StartAsync(context: 8192);
        var (response, body) = await StartLongStreamAsync(s);
        await TinyServer.WaitUntilAsync(() => s.Batcher.Running == 1, "the sequence to run");
        body.Dispose();
        response.Dispose();
        await TinyServer.WaitUntilAsync(() => s.Batcher.Running == 0 && s.Batcher.Waiting == 0 && s.Server.PendingSequences == 0, "the slot to be freed");
        Assert.Equal(1, s.Server.CancelledSequences);

        // The same for a non-streaming request cancelled by its client.
        using var cancel = new CancellationTokenSource();
        var pending = s.PostAsync(TinyServer.Body(Hello(new { max_tokens = 8000 })), cancel.Token);
        await TinyServer.WaitUntilAsync(() => s.Batcher.Running == 1, "the second sequence to run");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await TinyServer.WaitUntilAsync(() => s.Batcher.Running == 0 && s.Server.PendingSequences == 0, "the second slot to be freed");
        Assert.Equal(2, s.Server.CancelledSequences);
    }
}
