using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace AlignSharp.Feedback;

/// <summary>
/// Loads user YAML (recipes, constitutions) so that every failure is a <see cref="YamlException"/> with a position:
/// nesting deeper than <see cref="MaxNesting"/> is refused before the recursive loader would overflow the stack, an
/// alias must name an anchor whose node is complete before it (a forward or self reference makes a cyclic node graph
/// that YamlDotNet's loader recurses through without end), and the parser's own internal errors on malformed text
/// become syntax errors.
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
            var complete = new HashSet<string>();   // anchors whose node has ended: aliases to them are acyclic
            var open = new Stack<string?>();        // the anchor (or null) of each mapping/sequence being read
            while (parser.MoveNext())
            {
                last = parser.Current!.Start;
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart:
                        if (++depth > MaxNesting)
                            throw new YamlException(parser.Current!.Start, parser.Current.End, $"nested more than {MaxNesting} levels deep");
                        var anchor = ((NodeEvent)parser.Current).Anchor;
                        open.Push(anchor.IsEmpty ? null : anchor.Value);
                        break;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        if (open.TryPop(out var ended) && ended is not null) complete.Add(ended);
                        break;
                    case Scalar scalar when !scalar.Anchor.IsEmpty:
                        complete.Add(scalar.Anchor.Value);
                        break;
                    case AnchorAlias alias when !complete.Contains(alias.Value.Value):
                        throw new YamlException(alias.Start, alias.End, $"alias *{alias.Value.Value} must refer to an anchor &{alias.Value.Value} whose value ends before it (forward and self references are not supported)");
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
