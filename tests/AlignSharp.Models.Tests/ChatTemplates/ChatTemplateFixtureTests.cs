using System.Text.Json;
using AlignSharp.Models.ChatTemplates;

namespace AlignSharp.Models.Tests.ChatTemplates;

/// <summary>
/// Byte-for-byte parity with the reference renderers. Fixtures come from tools/fixtures/chat_templates:
/// "expected" is @huggingface/jinja's output; "expected_jinja2" (present where the two disagree, e.g. Python's
/// True/None printing) is jinja2's in transformers' configuration, which is what AlignSharp follows.
/// </summary>
public class ChatTemplateFixtureTests
{
    static readonly Lazy<JsonDocument> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "chat_templates.json"))));

    internal static JsonElement Root => Fixture.Value.RootElement;

    internal static string TemplateSource(string name) => Root.GetProperty("templates").GetProperty(name).GetString()!;

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Root.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    internal static ChatTemplateOptions Options(JsonElement options)
    {
        Dictionary<string, object?>? extra = null;
        if (options.TryGetProperty("extra", out var e))
            extra = e.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        return new ChatTemplateOptions
        {
            AddGenerationPrompt = options.GetProperty("add_generation_prompt").GetBoolean(),
            BosToken = options.TryGetProperty("bos_token", out var bos) ? bos.GetString() : null,
            EosToken = options.TryGetProperty("eos_token", out var eos) ? eos.GetString() : null,
            Tools = options.TryGetProperty("tools", out var tools) ? tools.Clone() : null,
            Extra = extra,
        };
    }

    [Fact]
    public void Fixture_covers_real_and_synthetic_templates()
    {
        var cases = Root.GetProperty("cases").EnumerateArray().ToList();
        Assert.True(cases.Count >= 150, $"only {cases.Count} fixture cases");
        var templates = cases.Select(c => c.GetProperty("template").GetString()).Distinct().ToList();
        foreach (var name in new[] { "qwen2_5", "llama3_1", "mistral_v0_1", "zephyr", "gemma", "phi3", "deepseek_r1", "smollm2" })
            Assert.Contains(name, templates);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Renders_exactly_like_the_reference(string caseName)
    {
        var c = Root.GetProperty("cases").EnumerateArray().First(x => x.GetProperty("name").GetString() == caseName);
        string templateName = c.GetProperty("template").GetString()!;
        var template = ChatTemplate.Parse(TemplateSource(templateName), templateName + ".jinja");
        var options = Options(c.GetProperty("options"));
        var messages = c.GetProperty("messages");

        if (c.TryGetProperty("expected_error", out var error) && !c.TryGetProperty("expected_jinja2", out _))
        {
            var ex = Assert.Throws<TemplateException>(() => template.Render(messages, options));
            Assert.True(ex.RaisedByTemplate, ex.Message);
            Assert.Equal(error.GetString(), ex.Message);
            return;
        }
        string expected = (c.TryGetProperty("expected_jinja2", out var j2) ? j2 : c.GetProperty("expected")).GetString()!;
        Assert.Equal(expected, template.Render(messages, options).Text);
    }
}
