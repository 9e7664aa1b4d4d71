namespace AlignSharp.Feedback.Tests;

public class ProjectTests
{
    [Fact]
    public void Prompt_metadata_lookup() => Assert.True(new PromptRecord("1", "x", "harmful", new Dictionary<string, string> { ["harmful"] = "true" }).IsHarmful);
}
