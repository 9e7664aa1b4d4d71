using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace AlignSharp.Training.Config;

/// <summary>
/// Loads user YAML (recipes, constitutions) so that every failure is a <see cref="YamlException"/> with a position:
/// nesting deeper than <see cref="MaxNesting"/> is refused before the recursive loader would overflow the stack, and
/// the parser's own internal errors on malformed text become syntax errors.
/// </summary>
public static class SafeYaml
{
    /// <summary>The deepest nesting of mappings and sequences accepted (recipes are flat; constitutions nest 3 deep).</summary>
    public const int MaxNesting = 64;

    public static YamlStream Load(string text)
    {
        var last = Mark.Empty; // where the latest event started, for errors YamlDotNet raises without a position
        try
        {
            // First pass: the event parser is iterative, so deep nesting is seen before anything recurses.
            var parser = new Parser(new StringReader(text));
            int depth = 0;
            while (parser.MoveNext())
            {
                last = parser.Current!.Start;
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart:
                        if (++depth > MaxNesting)
                            throw new YamlException(parser.Current!.Start, parser.Current.End, $"nested more than {MaxNesting} levels deep");
                        break;
                    case MappingEnd or SequenceEnd: depth--; break;
                }
            }
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these on some malformed input instead of a YamlException: its scanner on an unclosed
            // flow list before more keys, TagName on a tag that is not a valid URI ("!!bi[1:]nary").
            throw new YamlException(last, last, $"malformed YAML ({e.Message})", e);
        }
    }
}
