using System.Diagnostics;
using AlignSharp.Feedback.Providers;
using AlignSharp.Models.Generation;
using Microsoft.Extensions.AI;
using static AlignSharp.Feedback.Tests.Providers.EndpointTestKit;

namespace AlignSharp.Feedback.Tests.Providers;

public class ResilienceTests
{
    [Theory]
    [InlineData(Fault.Hang)]
    [InlineData(Fault.TooManyRequests)]
    [InlineData(Fault.InternalError)]
    [InlineData(Fault.Unavailable)]
    [InlineData(Fault.GarbageJson)]
    [InlineData(Fault.NoChoices)]
    [InlineData(Fault.CutStream)]
    [InlineData(Fault.SlowFirstByte)]
    public async Task Each_fault_is_retried_and_the_call_succeeds(Fault fault)
    {
        await using var server = await FaultServer.StartAsync();
        server.RetryAfterHeader = "0";
        server.SlowFirstByte = TimeSpan.FromSeconds(30); // well past the timeout: abandoned, then retried
        // Twice in a row (the backoff grows); once for the two that cost a whole timeout.
        int times = fault is Fault.Hang or Fault.SlowFirstByte ? 1 : 2;
        server.Script(Enumerable.Repeat(fault, times).ToArray());
        using var client = ChatProviders.Create(Judge(server));
        var response = await client.GetResponseAsync(Question);
        Assert.InRange(ScoreIn(response.Text), 1, 5);
        Assert.Equal(times + 1, server.Requests);
        Assert.Equal(1, server.Answered);
        Assert.Equal(times, client.GetService<ResilientChatClient>()!.Retries);
    }

    [Theory]
    [InlineData(Fault.CutStream)]
    [InlineData(Fault.Unavailable)]
    [InlineData(Fault.Hang)]
    public async Task A_streamed_answer_is_retried_whole_and_shown_once(Fault fault)
    {
        await using var server = await FaultServer.StartAsync();
        server.Script(fault);
        using var client = ChatProviders.Create(Judge(server));
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Question)) updates.Add(update);
        Assert.InRange(ScoreIn(updates.ToChatResponse().Text), 1, 5);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task A_slow_first_byte_within_the_timeout_is_waited_for_not_retried()
    {
        await using var server = await FaultServer.StartAsync();
        server.SlowFirstByte = TimeSpan.FromMilliseconds(200);
        server.Script(Fault.SlowFirstByte);
        using var client = ChatProviders.Create(Judge(server, timeoutSeconds: 5));
        Assert.InRange(ScoreIn((await client.GetResponseAsync(Question)).Text), 1, 5);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Retry_after_is_honoured()
    {
        await using var server = await FaultServer.StartAsync();
        server.RetryAfterHeader = "1";
        server.Script(Fault.TooManyRequests);
        using var client = ChatProviders.Create(Judge(server)); // backoff alone would wait ~1 ms
        await client.GetResponseAsync(Question);
        var arrivals = server.Arrivals.ToArray();
        Assert.Equal(2, arrivals.Length);
        Assert.True(arrivals[1] - arrivals[0] >= TimeSpan.FromSeconds(1), $"retried after {(arrivals[1] - arrivals[0]).TotalMilliseconds} ms, Retry-After said 1 s");
    }

    [Fact]
    public async Task An_endpoint_down_for_good_ends_in_one_clear_error_after_the_retry_budget()
    {
        await using var server = await FaultServer.StartAsync();
        server.Down = true;
        using var client = ChatProviders.Create(Judge(server, maxRetries: 3));
        var error = await Assert.ThrowsAsync<FeedbackException>(() => client.GetResponseAsync(Question));
        Assert.Equal($"recipe.yaml: judge endpoint {server.Endpoint} (model fault-judge): gave up after 4 attempts; last: HTTP 503 Service Unavailable; "
            + "check that the server is up and serving 'fault-judge', or raise judge.max_retries / judge.timeout_seconds", error.Message);
        Assert.Equal(4, server.Requests);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_then_named()
    {
        var server = await FaultServer.StartAsync();
        var options = Judge(server, maxRetries: 2);
        await server.DisposeAsync(); // nothing listens on the port any more
        using var client = ChatProviders.Create(options);
        var error = await Assert.ThrowsAsync<FeedbackException>(() => client.GetResponseAsync(Question));
        Assert.Contains("gave up after 3 attempts; last: connection failed", error.Message);
    }

    [Fact]
    public async Task The_key_is_sent_as_a_bearer_token_from_the_environment_and_never_shown()
    {
        await using var server = await FaultServer.StartAsync();
        string variable = "ALIGNSHARP_TEST_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, "sk-test-5f2a");
        try
        {
            using var client = ChatProviders.Create(Judge(server, apiKeyEnv: variable));
            await client.GetResponseAsync(Question);
            Assert.Equal("Bearer sk-test-5f2a", server.LastAuthorization);

            // A 401 is permanent: no retries, and the fix — even though this server echoes the key back in its error body.
            server.Script(Fault.Unauthorized);
            var error = await Assert.ThrowsAsync<FeedbackException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "again")]));
            Assert.Equal($"recipe.yaml: judge endpoint {server.Endpoint} (model fault-judge): HTTP 401 Unauthorized (invalid key: Bearer ***); the endpoint refused the key in ${variable}; export a valid one", error.Message);
            Assert.DoesNotContain("sk-test", error.ToString());
            Assert.Equal(2, server.Requests);
        }
        finally { Environment.SetEnvironmentVariable(variable, null); }
    }

    [Fact]
    public async Task Without_a_key_variable_no_real_key_is_sent()
    {
        await using var server = await FaultServer.StartAsync();
        using var client = ChatProviders.Create(Judge(server));
        await client.GetResponseAsync(Question);
        Assert.Equal("Bearer unused", server.LastAuthorization);
    }

    [Fact]
    public async Task Token_logprobs_make_the_round_trip()
    {
        await using var server = await FaultServer.StartAsync();
        using var client = ChatProviders.Create(Judge(server));
        var response = await client.GetResponseAsync(Question, ChatLogprobs.Request(new ChatOptions { MaxOutputTokens = 4 }, 2));
        Assert.Contains("\"logprobs\":true", server.LastBody);
        Assert.Contains("\"top_logprobs\":2", server.LastBody);
        var logprobs = ChatLogprobs.Get(response)!;
        Assert.Equal(["Score", ":", $" {ScoreIn(response.Text)}"], logprobs.Select(t => t.Token));
        Assert.All(logprobs, t => Assert.Equal(-0.25, t.Logprob, 6));
        Assert.Equal([logprobs[2].Token, logprobs[2].Token + "#1"], logprobs[2].Top!.Select(a => a.Token));
        Assert.Equal(-1.75, logprobs[2].Top![1].Logprob, 6);

        // Not asked for: not sent, none returned.
        var plain = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "plain")]);
        Assert.DoesNotContain("logprobs", server.LastBody);
        Assert.Null(ChatLogprobs.Get(plain));
    }

    [Fact]
    public async Task No_more_than_max_concurrency_requests_are_in_flight()
    {
        await using var server = await FaultServer.StartAsync();
        server.SlowFirstByte = TimeSpan.FromMilliseconds(100);
        server.Rule = (_, _) => Fault.SlowFirstByte;
        using var client = ChatProviders.Create(Judge(server, timeoutSeconds: 10, maxConcurrency: 3));
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => client.GetResponseAsync([new ChatMessage(ChatRole.User, $"q{i}")])));
        Assert.Equal(12, server.Answered);
        Assert.InRange(server.MaxInFlight, 1, 3);
    }

    [Fact]
    public async Task Requests_per_minute_hold_back_the_request_past_the_allowance()
    {
        await using var server = await FaultServer.StartAsync();
        using var client = ChatProviders.Create(Judge(server) with { RequestsPerMinute = 2 });
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "one")]);
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "two")]);
        using var cancel = new CancellationTokenSource();
        var third = client.GetResponseAsync([new ChatMessage(ChatRole.User, "three")], cancellationToken: cancel.Token);
        await Task.Delay(200);
        Assert.False(third.IsCompleted); // the bucket refills one request every 30 s
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_retried()
    {
        await using var server = await FaultServer.StartAsync();
        server.Script(Fault.Hang);
        using var client = ChatProviders.Create(Judge(server, timeoutSeconds: 30));
        using var cancel = new CancellationTokenSource();
        var call = client.GetResponseAsync(Question, cancellationToken: cancel.Token);
        for (int waited = 0; server.Requests == 0 && waited < 10_000; waited += 10) await Task.Delay(10);
        cancel.Cancel(); // while the server hangs on the first attempt
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, server.Requests);
    }
}
