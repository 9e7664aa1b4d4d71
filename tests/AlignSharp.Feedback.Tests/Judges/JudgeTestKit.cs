using System.Text.RegularExpressions;

namespace AlignSharp.Feedback.Tests.Judges;

static class JudgeTestKit
{
    public static PromptRecord Prompt(string text = "How do I boil an egg?", string category = "chat", params (string Key, string Value)[] metadata) =>
        new("p-" + text.Length, text, category, metadata.ToDictionary(m => m.Key, m => m.Value));

    /// <summary>The text between "label" and the next line of a rendered judge prompt.</summary>
    public static string Field(string user, string label) => Regex.Match(user, $@"^{Regex.Escape(label)} ?(.*)$", RegexOptions.Multiline).Groups[1].Value;
}
