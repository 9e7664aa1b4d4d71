using AlignSharp.Feedback;
using AlignSharp.Alignment.Environments.DemoWorld;
namespace AlignSharp.Alignment.Tests;

/// <summary>Prompt records for tests, with metadata given as key=value pairs.</summary>
static class Prompts
{
    public static PromptRecord Make(string category = "test", params (string Key, string Value)[] metadata) =>
        new("p1", "prompt", category, metadata.ToDictionary(m => m.Key, m => m.Value));

    public static PromptRecord Answer(string answer) => Make("arithmetic", ("answer", answer), ("harmful", "false"));
    public static PromptRecord Format(string format) => Make("format", ("format", format), ("harmful", "false"));
    public static PromptRecord Harmful() => Make("harmful", ("harmful", "true"));
}
