using System.Text.Json;
using AlignSharp.Models.ChatTemplates;

namespace AlignSharp.Models.Tests.ChatTemplates;

/// <summary>
/// Features the JavaScript reference lacks or renders differently; expected strings were produced by Python jinja2
/// 3.1.6 in transformers' configuration (tools/fixtures/chat_templates/crosscheck_jinja2.py's make_env).
/// </summary>
public class JinjaSemanticsTests
{
    static readonly JsonElement NoMessages = JsonDocument.Parse("[]").RootElement;

    static string Render(string source, ChatTemplateOptions? options = null) => ChatTemplate.Parse(source).Render(NoMessages, options).Text;

    [Theory]
    [InlineData("{% raw %}{{ x }}{% endraw %}|{{ 1 }}", "{{ x }}|1")]
    [InlineData("{% for i in range(4) %}{{ loop.cycle('a', 'b') }}{% endfor %}", "abab")]
    [InlineData("{{ 9 is divisibleby 3 }} {{ 10 is divisibleby(3) }} {{ 'a' is equalto 'a' }}", "True False True")]
    [InlineData("{{ ['a', 1, none, true, 2.5] }} {{ {'k': 'v', 'n': [1]} }} {{ none }} {{ (1, 'x') }} {{ 1e20 }} {{ 0.0001 }} {{ 1/3 }}", "['a', 1, None, True, 2.5] {'k': 'v', 'n': [1]} None (1, 'x') 1e+20 0.0001 0.3333333333333333")]
    [InlineData("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold{% endcall %}", "<b>bold</b>")]
    [InlineData("{{ 'hELLO wORLD-foo' | title }} {{ 'hELLO wORLD' .title() }} {{ 'ab' | center(6) }}|", "Hello World-Foo Hello World   ab  |")]
    [InlineData("{{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ [1, 2, 3] | sum }} {{ [3, 1, 2] | max }} {{ 'Hi %s, %d' | format('Bob', 3) }} {{ '%s!' % 'x' }}", "2.0 3.14 6 3 Hi Bob, 3 x!")]
    [InlineData("{{ [1, 2, 3, 4, 5] | select('odd') | join(',') }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ ['A', 'b'] | map('lower') | join }}", "1,3,5 [1, 3] ab")]
    [InlineData("{{ '<a href=\"x\">&</a>' | e }} {{ '<b>bold</b> text' | striptags }} {{ 'one two  three' | wordcount }}", "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt; bold text 3")]
    [InlineData("{% set a, b = [1, 2] %}{{ b }}{{ a }}{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.items }}", "21[0, 1, 2]")]
    [InlineData("{{ [{'n': 'b', 'v': 2}, {'n': 'a', 'v': 1}] | sort(attribute='n') | map(attribute='v') | join }} {{ {'b': 1, 'a': 2} | dictsort(by='value') }}", "12 [('b', 1), ('a', 2)]")]
    [InlineData("[{{ 'x' if false }}]", "[]")]
    [InlineData("{{ 'abc' | int }} {{ '12abc' | int(7) }} {{ 3 | float }} {{ '1e3' | float }} {{ true | int }}", "0 7 3.0 1000.0 1")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}", "True False")]
    [InlineData("{{ {'a': 1.0, 'b': none, 'c': 'ç\"'} | tojson(indent=0) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}", "{\n\"a\": 1.0,\n\"b\": null,\n\"c\": \"ç\\\"\"\n}|\"\\u00e9\"|{\"a\": 2, \"b\": 1}")]
    public void Matches_jinja2(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void Undefined_is_lenient_for_attributes_and_empty_for_printing_and_iteration()
    {
        // jinja2 raises on missing.attr; like @huggingface/jinja we return undefined so `is defined` checks work.
        Assert.Equal("[][False][][0]", Render("[{{ missing }}][{{ missing.attr is defined }}][{% for x in missing %}x{% endfor %}][{{ missing | length }}]"));
    }

    [Fact]
    public void Extra_variables_and_tools_are_visible()
    {
        var options = new ChatTemplateOptions
        {
            Tools = JsonDocument.Parse("""[{"name": "f", "z": 1, "a": 2}]""").RootElement,
            Extra = new Dictionary<string, object?> { ["enable_thinking"] = false, ["date_string"] = "01 Jan 2025", ["n"] = 3, ["list"] = new[] { "x", "y" } },
        };
        Assert.Equal("[{\"name\": \"f\", \"z\": 1, \"a\": 2}] False 01 Jan 2025 4 x-y",
            Render("{{ tools | tojson }} {{ enable_thinking }} {{ date_string }} {{ n + 1 }} {{ list | join('-') }}", options));
    }

    [Fact]
    public void Strftime_now_formats_the_current_date()
    {
        string year = DateTime.Now.Year.ToString();
        Assert.StartsWith(year, Render("{{ strftime_now('%Y-%m-%d') }}"));
        Assert.Matches(@"^\d{2} [A-Z][a-z]{2} \d{4}$", Render("{{ strftime_now('%d %b %Y') }}"));
    }
}
