using AlignSharp.Feedback.Providers;
using Microsoft.Extensions.AI;

namespace AlignSharp.Feedback.Tests.Providers;

public class RequestBudgetTests
{
    static readonly ChatMessage[] Prompt400 = [new(ChatRole.User, new string('x', 400))];

    [Fact]
    public async Task Tokens_are_estimated_then_corrected_by_reported_usage()
    {
        using var budget = new RequestBudget(0, 100_000);
        var options = new ChatOptions { MaxOutputTokens = 100 };
        var first = await budget.AcquireAsync(Prompt400, options, default);
        Assert.Equal(400 / 4 + 100, first.Tokens);                 // 4 characters a token until usage says otherwise
        budget.Settle(first, new UsageDetails { InputTokenCount = 200, OutputTokenCount = 300, TotalTokenCount = 500 });
        var second = await budget.AcquireAsync(Prompt400, options, default);
        // The 300 used beyond the first charge are carried; the prompt now reads at 0.8·4 + 0.2·2 = 3.6 characters a token.
        Assert.Equal((int)Math.Ceiling(400 / 3.6) + 100 + 300, second.Tokens);
    }

    [Fact]
    public async Task Requests_beyond_the_minute_allowance_wait()
    {
        using var budget = new RequestBudget(2, 0);
        await budget.AcquireAsync(Prompt400, null, default);
        await budget.AcquireAsync(Prompt400, null, default);
        using var cancel = new CancellationTokenSource();
        var third = budget.AcquireAsync(Prompt400, null, cancel.Token).AsTask();
        await Task.Delay(100);
        Assert.False(third.IsCompleted); // the next token comes 30 s after the first two
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
    }
}
