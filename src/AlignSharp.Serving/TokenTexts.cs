using System.Collections.Concurrent;
using System.Text;
using AlignSharp.Models.Generation;
using AlignSharp.Models.Tokenizers;
using AlignSharp.Serving.Protocol;

namespace AlignSharp.Serving;

/// <summary>
/// The text and UTF-8 bytes of single tokens, as OpenAI's logprobs report them: a byte-level token that holds part of a
/// character has its exact bytes, and its text shows the partial character as U+FFFD. An id the tokenizer lacks (rows of a
/// padded embedding) has no text and no bytes. Cached per id: a judge asks for the same few tokens again and again.
/// </summary>
internal sealed class TokenTexts(Tokenizer tokenizer)
{
    private readonly ConcurrentDictionary<int, (string Text, int[] Bytes)> _cache = new();

    public (string Text, int[] Bytes) Get(int id) => _cache.GetOrAdd(id, Compute);

    /// <summary>An OpenAI logprob entry; a log-probability below float range (−∞) is written as −9999, as OpenAI writes it.</summary>
    public TokenLogprobEntry Entry(int id, float logprob, IReadOnlyList<TokenChoice>? top)
    {
        var (text, bytes) = Get(id);
        var alternatives = top is null ? [] : top.Select(c => { var (t, b) = Get(c.Id); return new TopLogprobEntry(t, Finite(c.Logprob), b); }).ToArray();
        return new TokenLogprobEntry(text, Finite(logprob), bytes, alternatives);
    }

    private static double Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999.0;

    private (string, int[]) Compute(int id)
    {
        string? token = tokenizer.IdToToken(id);
        if (token is null) return ("", []);
        byte[] bytes;
        if (tokenizer.AddedTokens.FirstOrDefault(a => a.Id == id) is { } added) bytes = Encoding.UTF8.GetBytes(added.Content);
        else
        {
            var list = new List<byte>();
            ByteLevel.Decode(token, list);
            bytes = list.ToArray();
        }
        return (Encoding.UTF8.GetString(bytes), bytes.Select(b => (int)b).ToArray());
    }
}
