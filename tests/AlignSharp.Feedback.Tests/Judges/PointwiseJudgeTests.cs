using AlignSharp.Feedback.Judges;
using Microsoft.Extensions.AI;
using static AlignSharp.Feedback.Tests.Judges.JudgeTestKit;

namespace AlignSharp.Feedback.Tests.Judges;

public class PointwiseJudgeTests
{
    [Theory]
    [InlineData("Relevant and complete.\nScore: 4", 0.8, 4.0)]
    [InlineData("<score>5</score>", 1.0, 5.0)]
    [InlineData("Off topic entirely. Score: 0", 0.0, 0.0)]
    [InlineData("{\"score\": 2}", 0.4, 2.0)]
    public async Task Rubric_points_are_normalised_to_the_unit_interval(string answer, double score, double points)
    {
        var judge = new PointwiseJudge(new ScriptedChatClient(_ => answer));
        var label = await judge.ScoreAsync(Prompt(), "Boil it for 8 minutes.");
        Assert.Equal(score, label!.Score, 12);
        Assert.Equal(points, label.Parts!["points"]);
        Assert.StartsWith($"{points}/5: ", label.Rationale);
        Assert.False(label.Unparsable);
        Assert.Equal(SignalKind.Judge, label.Provenance.Kind);
        Assert.Equal("additive-5-point", label.Provenance.PromptTemplate);
    }

    [Fact]
    public async Task A_score_off_the_scale_is_unparsable_not_an_exception()
    {
        var judge = new PointwiseJudge(new ScriptedChatClient(_ => "Score: 9"));
        var label = await judge.ScoreAsync(Prompt(), "x");
        Assert.True(label!.Unparsable);
        Assert.Equal("unparsable: Score: 9", label.Rationale);
        Assert.Equal(1, judge.UnparsableAnswers);
    }

    [Fact]
    public async Task The_rubric_prompt_holds_the_conversation_the_response_and_a_reference_when_given()
    {
        var client = new ScriptedChatClient(_ => "Score: 3");
        var judge = new PointwiseJudge(client);
        var prompt = new PromptRecord("q", [new ChatMessage(ChatRole.User, "Name a prime."), new ChatMessage(ChatRole.Assistant, "7."), new ChatMessage(ChatRole.User, "Another?")],
            "chat", new Dictionary<string, string> { [JudgeTemplate.ReferenceKey] = "11 is prime." });
        await judge.ScoreAsync(prompt, "9");
        string user = client.Requests[0].Messages.Single().Text;
        Assert.Contains("User: Name a prime.\nAssistant: 7.\nUser: Another?", user);
        Assert.Contains("Response:\n9\n", user);
        Assert.Contains("A reference answer, known to be correct, to compare the response with:\n11 is prime.", user);
        Assert.Contains("\"Score: <points>\"", user);
        await judge.ScoreAsync(Prompt(), "9");
        Assert.DoesNotContain("reference answer", client.Requests[1].Messages.Single().Text);
        Assert.Equal(320, client.Requests[0].Options!.MaxOutputTokens);
        Assert.Null(AlignSharp.Models.Generation.ChatLogprobs.Requested(client.Requests[0].Options));  // the rubric reads no log-probs
    }

    [Fact]
    public async Task Batches_run_concurrently_and_keep_their_order()
    {
        // Points = the response's length mod 6, read back from the rendered prompt.
        static string Points(string user) => $"Score: {user.Split("Response:\n")[1].Split('\n')[0].Length % 6}";
        var client = new ScriptedChatClient(Points, awaitConcurrent: 4);
        var judge = new PointwiseJudge(client);
        var items = Enumerable.Range(0, 16).Select(i => new SignalItem(Prompt($"q{i}"), new string('x', i))).ToArray();
        var labels = await judge.ScoreBatchAsync(items, maxConcurrency: 8);
        Assert.Equal(16, labels.Length);
        Assert.True(client.MaxInFlight >= 4, $"at most {client.MaxInFlight} requests were in flight at once");
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i % 6 / 5.0), labels.Select(l => l!.Score));
    }
}
