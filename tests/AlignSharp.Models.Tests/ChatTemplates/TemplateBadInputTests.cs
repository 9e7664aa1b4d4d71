using System.Text.Json;
using AlignSharp.Models.ChatTemplates;

namespace AlignSharp.Models.Tests.ChatTemplates;

/// <summary>
/// Crash classes the fuzzer (tools/fuzz) found in template parsing and rendering: deep nesting overflowed the stack,
/// runaway templates hung or exhausted memory. Each must now be a TemplateException with a message.
/// </summary>
[Collection(BadInputCollection.Name)]
public class TemplateBadInputTests
{
    static readonly JsonElement Messages = JsonDocument.Parse("""[{"role":"user","content":"hi"}]""").RootElement.Clone();

    static string Render(string template) => ChatTemplate.Parse(template, "t.jinja").Render(Messages).Text;

    static string Repeat(string s, int n) => string.Concat(Enumerable.Repeat(s, n));

    [Theory]
    [InlineData("(", ")")]
    [InlineData("[", "]")]
    [InlineData("not ", "")]
    [InlineData("-", "")]
    [InlineData("f(", ")")]
    public void Deeply_nested_expression_is_a_parse_error_not_a_stack_overflow(string open, string close)
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{{ " + Repeat(open, 100_000) + "1" + Repeat(close, 100_000) + " }}", "t.jinja"));
        Assert.Contains("nested more than", e.Message);
    }

    [Fact]
    public void Deeply_nested_blocks_are_a_parse_error_not_a_stack_overflow() =>
        Assert.Contains("nested more than", Assert.Throws<TemplateException>(() => ChatTemplate.Parse(Repeat("{% if true %}", 100_000) + Repeat("{% endif %}", 100_000))).Message);

    [Fact]
    public void Moderate_nesting_still_parses() =>
        Assert.Equal("1", Render("{{ " + Repeat("(", 50) + "1" + Repeat(")", 50) + " }}"));

    [Fact]
    public void Endless_macro_recursion_is_a_render_error_not_a_stack_overflow() =>
        Assert.Contains("nest more than", Assert.Throws<TemplateException>(() => Render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")).Message);

    [Fact]
    public void Long_operator_chain_is_a_render_error_not_a_stack_overflow() =>
        Assert.Contains("nest more than", Assert.Throws<TemplateException>(() => Render("{{ 1" + Repeat(" ~ 1", 100_000) + " }}")).Message);

    [Fact]
    public void Runaway_loop_stops_with_a_step_limit() =>
        Assert.Contains("steps", Assert.Throws<TemplateException>(() => Render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")).Message);

    [Theory]
    [InlineData("{{ 'ab' * 1000000000000 }}")]
    [InlineData("{{ [1, 2] * 1000000000000 }}")]
    [InlineData("{{ range(1000000000000) | length }}")]
    [InlineData("{{ 'x' | center(2000000000) }}")]
    [InlineData("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")]
    public void Huge_values_are_a_render_error_not_out_of_memory(string template) =>
        Assert.Contains("more than", Assert.Throws<TemplateException>(() => Render(template)).Message);

    [Theory]
    [InlineData("{{ 99999999999999999999 }}")]
    [InlineData("{{ messages.99999999999999999999 }}")]
    public void Integer_literal_beyond_int64_is_a_parse_error_not_an_overflow(string template) =>
        Assert.Contains("99999999999999999999", Assert.Throws<TemplateException>(() => ChatTemplate.Parse(template, "t.jinja")).Message);

    [Fact]
    public void Range_near_the_int64_limit_ends() =>
        Assert.Equal("2", Render("{{ range(9223372036854775800, 9223372036854775807, 5) | length }}"));
}
