using System.Text.Json;
using AlignSharp.Models.ChatTemplates;

namespace AlignSharp.Models.Tests.ChatTemplates;

public class TemplateErrorTests
{
    static readonly JsonElement OneUser = JsonDocument.Parse("""[{"role": "user", "content": "hi"}]""").RootElement;

    [Fact]
    public void Mismatched_end_tag_names_line_column_origin_and_the_expected_tag()
    {
        const string source = "{% for m in messages %}\n{% if m.role %}\n  x {% endfor %}";
        var ex = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source, "tokenizer_config.json chat_template"));
        Assert.Equal((3, 8), (ex.Line, ex.Column));
        Assert.Equal("tokenizer_config.json chat_template:3:8: unexpected 'endfor', expected 'endif'", ex.Message);
    }

    [Fact]
    public void Unclosed_block_names_where_it_opened()
    {
        var ex = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("a\n{% for m in messages %}{{ m }}", "t.jinja"));
        Assert.Contains("'for' block opened at 2:4 needs 'endfor' or 'else'", ex.Message);
        Assert.StartsWith("t.jinja:", ex.Message);
    }

    [Theory]
    [InlineData("{{ messages ", "unterminated tag")]
    [InlineData("{% if x %}", "needs 'elif' or 'else' or 'endif'")]
    [InlineData("{# never closed", "unterminated comment")]
    [InlineData("{{ 'open }}", "unterminated string")]
    [InlineData("{% frobnicate %}", "unknown tag 'frobnicate'")]
    [InlineData("{{ 1 + }}", "expected an expression")]
    public void Syntax_errors_say_what_is_wrong(string source, string fragment)
    {
        var ex = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source));
        Assert.Contains(fragment, ex.Message);
        Assert.True(ex.Line >= 1 && ex.Column >= 1);
    }

    [Fact]
    public void Unknown_filter_is_named_with_its_position()
    {
        var template = ChatTemplate.Parse("line one\n{{ messages | frobnicate }}", "x.jinja");
        var ex = Assert.Throws<TemplateException>(() => template.Render(OneUser));
        Assert.StartsWith("x.jinja:2:15: unknown filter 'frobnicate'", ex.Message);
    }

    [Fact]
    public void Raise_exception_carries_the_templates_message_verbatim()
    {
        var template = ChatTemplate.Parse("{% if messages[0].role != 'system' %}\n{{ raise_exception('A system message is required!') }}{% endif %}");
        var ex = Assert.Throws<TemplateException>(() => template.Render(OneUser));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("A system message is required!", ex.Message);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Runtime_type_errors_point_at_the_expression()
    {
        var template = ChatTemplate.Parse("{{ 'a' + 1 }}");
        var ex = Assert.Throws<TemplateException>(() => template.Render(OneUser));
        Assert.Contains("1:8: unsupported operand type(s) for +: 'str' and 'int'", ex.Message);
    }

    [Fact]
    public void Messages_must_be_an_array()
    {
        var template = BuiltInTemplates.Get("chatml");
        Assert.Throws<ArgumentException>(() => template.Render(JsonDocument.Parse("{}").RootElement));
    }
}
