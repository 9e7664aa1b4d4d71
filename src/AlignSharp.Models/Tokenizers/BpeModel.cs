using System.Text;
using System.Text.Json;

namespace AlignSharp.Models.Tokenizers;

/// <summary>
/// Byte-level BPE (Sennrich et al. 2016; Radford et al. 2019): a piece's UTF-8 bytes start as one symbol
/// each, and the adjacent pair with the lowest merge rank is merged until no pair has a rank.
/// With <see cref="IgnoreMerges"/> a piece that is itself in the vocabulary is emitted whole (Llama-3).
/// Results are cached per piece text.
/// </summary>
public sealed class BpeModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly Dictionary<long, (int Rank, int Merged)> _merges;
    private readonly (string A, string B)[] _mergeList;
    private readonly int[] _byteToId = new int[256];
    // Concurrent: one tokenizer encodes for many requests at once (a server, a batching chat client).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _cache = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private const int CacheLimit = 200_000;

    /// <summary>The largest vocabulary id accepted (2^24 - 1; the largest real vocabularies hold about 2^18 tokens).</summary>
    public const int MaxTokenId = (1 << 24) - 1;

    public bool IgnoreMerges { get; }
    public string? UnkToken { get; }
    private readonly int _unkId = -1;

    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B)> merges, bool ignoreMerges = false, string? unkToken = null)
    {
        _vocab = vocab;
        // Ids index an array: check the range before sizing it (an id of 2^31-1 would overflow or exhaust memory).
        foreach (var (token, id) in vocab)
        {
            if (id < 0) throw new TokenizerException($"$.model.vocab: token '{token}' has a negative id {id}");
            if (id > MaxTokenId) throw new TokenizerException($"$.model.vocab: token '{token}' has id {id}, above the largest supported id {MaxTokenId}");
        }
        int size = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        _idToToken = new string[size];
        foreach (var (token, id) in vocab)
        {
            if (_idToToken[id] is { } other) throw new TokenizerException($"$.model.vocab: tokens '{other}' and '{token}' share id {id}");
            _idToToken[id] = token;
        }
        _mergeList = merges.ToArray();
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int r = 0; r < merges.Count; r++)
        {
            var (a, b) = merges[r];
            if (!vocab.TryGetValue(a, out int ia)) throw new TokenizerException($"$.model.merges[{r}]: '{a}' is not in the vocabulary");
            if (!vocab.TryGetValue(b, out int ib)) throw new TokenizerException($"$.model.merges[{r}]: '{b}' is not in the vocabulary");
            if (!vocab.TryGetValue(a + b, out int merged)) throw new TokenizerException($"$.model.merges[{r}]: the merge result '{a + b}' is not in the vocabulary");
            _merges.TryAdd(Key(ia, ib), (r, merged));
        }
        for (int b = 0; b < 256; b++) _byteToId[b] = vocab.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out int id) ? id : -1;
        IgnoreMerges = ignoreMerges;
        UnkToken = unkToken;
        if (unkToken is not null && !vocab.TryGetValue(unkToken, out _unkId))
            throw new TokenizerException($"$.model.unk_token: '{unkToken}' is not in the vocabulary");
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyDictionary<string, int> Vocab => _vocab;
    public IReadOnlyList<(string A, string B)> Merges => _mergeList;
    public int VocabSize => _idToToken.Length;
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>
    /// Encodes one piece. Returns the cached array [ids..., byte lengths...] (length 2n); callers must not modify it.
    /// </summary>
    internal int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        if (_cacheLookup.TryGetValue(piece, out var cached)) return cached;
        var result = EncodeUncached(piece);
        if (_cache.Count >= CacheLimit) _cache.Clear();
        _cacheLookup.TryAdd(piece, result); // a piece encoded by two threads at once gives equal arrays: either may stay
        return result;
    }

    private int[] EncodeUncached(ReadOnlySpan<char> piece)
    {
        int byteCount = Encoding.UTF8.GetByteCount(piece);
        Span<byte> bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(piece, bytes);

        if (IgnoreMerges && _vocab.TryGetValue(ByteLevel.Encode(bytes), out int whole))
            return [whole, byteCount];

        var ids = new List<int>(byteCount);
        var lens = new List<int>(byteCount);
        foreach (byte b in bytes)
        {
            int id = _byteToId[b];
            if (id < 0)
            {
                if (_unkId < 0) continue; // as Hugging Face: a byte with no token and no unk_token is dropped
                id = _unkId;
            }
            ids.Add(id); lens.Add(1);
        }
        if (ids.Count > 48) MergeWithHeap(ids, lens); else MergeByScan(ids, lens);
        var result = new int[ids.Count * 2];
        for (int i = 0; i < ids.Count; i++) { result[i] = ids[i]; result[ids.Count + i] = lens[i]; }
        return result;
    }

    /// <summary>Repeatedly merges the leftmost lowest-rank pair: O(n²), fastest for the short pieces that dominate text.</summary>
    private void MergeByScan(List<int> ids, List<int> lens)
    {
        while (ids.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue, merged = 0;
            for (int i = 0; i + 1 < ids.Count; i++)
                if (_merges.TryGetValue(Key(ids[i], ids[i + 1]), out var m) && m.Rank < bestRank) { bestRank = m.Rank; best = i; merged = m.Merged; }
            if (best < 0) return;
            ids[best] = merged; lens[best] += lens[best + 1];
            ids.RemoveAt(best + 1); lens.RemoveAt(best + 1);
        }
    }

    /// <summary>The same merge order with a linked list and a heap of (rank, position): O(n log n) for long pieces.</summary>
    private void MergeWithHeap(List<int> ids, List<int> lens)
    {
        int n = ids.Count;
        var next = new int[n]; var prev = new int[n]; var alive = new bool[n];
        var id = ids.ToArray(); var len = lens.ToArray();
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }
        var heap = new PriorityQueue<(int Left, int LeftId, int RightId), (int Rank, int Pos)>();
        void Push(int left)
        {
            if (left < 0) return;
            int right = next[left];
            if (right < 0) return;
            if (_merges.TryGetValue(Key(id[left], id[right]), out var m)) heap.Enqueue((left, id[left], id[right]), (m.Rank, left));
        }
        for (int i = 0; i + 1 < n; i++) Push(i);
        while (heap.TryDequeue(out var e, out _))
        {
            int l = e.Left, r = next[l];
            if (!alive[l] || r < 0 || id[l] != e.LeftId || id[r] != e.RightId) continue;
            id[l] = _merges[Key(id[l], id[r])].Merged;
            len[l] += len[r];
            alive[r] = false;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            Push(prev[l]);
            Push(l);
        }
        ids.Clear(); lens.Clear();
        for (int i = 0; i >= 0; i = next[i]) { ids.Add(id[i]); lens.Add(len[i]); }
    }

    internal static BpeModel FromJson(JsonElement e, string path)
    {
        string type = TokenizerJson.Optional(e, "type")?.GetString() ?? "BPE";
        if (type != "BPE") throw new TokenizerException($"{path}.type: model '{type}' is not supported (only byte-level BPE)");
        if (TokenizerJson.Optional(e, "dropout") is { } dropout && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw new TokenizerException($"{path}.dropout: BPE dropout at encoding time is not supported (set it to null)");
        if (TokenizerJson.Bool(e, "byte_fallback", false, path))
            throw new TokenizerException($"{path}.byte_fallback: true (SentencePiece-style byte fallback) is not supported; byte-level BPE needs none");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (TokenizerJson.Optional(e, key) is { } v && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
                throw new TokenizerException($"{path}.{key}: '{v.GetString()}' is not supported (byte-level BPE uses none)");

        var vocabJson = TokenizerJson.Require(e, "vocab", path);
        if (vocabJson.ValueKind != JsonValueKind.Object) throw new TokenizerException($"{path}.vocab: expected an object of token → id");
        var vocab = new Dictionary<string, int>();
        foreach (var p in vocabJson.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id))
                throw new TokenizerException($"{path}.vocab[\"{p.Name}\"]: expected an integer id, found {p.Value}");
            vocab[p.Name] = id;
        }
        var merges = new List<(string, string)>();
        int r = 0;
        foreach (var m in TokenizerJson.RequireArray(e, "merges", path))
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var parts = m.GetString()!.Split(' ');
                if (parts.Length != 2) throw new TokenizerException($"{path}.merges[{r}]: expected \"a b\", found \"{m.GetString()}\"");
                merges.Add((parts[0], parts[1]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw new TokenizerException($"{path}.merges[{r}]: expected \"a b\" or [\"a\", \"b\"], found {m}");
            r++;
        }
        return new BpeModel(vocab, merges, TokenizerJson.Bool(e, "ignore_merges", false, path), TokenizerJson.Optional(e, "unk_token")?.GetString());
    }

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        if (UnkToken is null) w.WriteNull("unk_token"); else w.WriteString("unk_token", UnkToken);
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", IgnoreMerges);
        w.WriteStartObject("vocab");
        for (int id = 0; id < _idToToken.Length; id++) if (_idToToken[id] is { } t) w.WriteNumber(t, id);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (a, b) in _mergeList) { w.WriteStartArray(); w.WriteStringValue(a); w.WriteStringValue(b); w.WriteEndArray(); }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
