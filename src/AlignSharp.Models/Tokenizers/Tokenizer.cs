using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AlignSharp.Models.Tokenizers;

/// <summary>An encoded text: token ids, each token's character range in the (normalized) text, and which tokens are special.</summary>
public sealed record TokenizedText(int[] Ids, (int Start, int End)[] Offsets, bool[] IsSpecial);

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> byte-level BPE tokenizer (GPT-2, Llama-3, Qwen2 families):
/// added tokens are split out first, the rest is normalized, pre-tokenized into pieces, each piece is
/// BPE-encoded, and the post-processor adds special tokens. Anything in the file that would change the
/// result and is not supported raises a <see cref="TokenizerException"/> naming its JSON path.
/// </summary>
public sealed class Tokenizer
{
    public BpeModel Model { get; }
    public Normalizer? Normalizer { get; }
    public PreTokenizer? PreTokenizer { get; }
    public PostProcessor? PostProcessor { get; }
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    private readonly AddedTokenMatcher _rawMatcher, _normalizedMatcher;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly Dictionary<string, AddedToken> _addedByContent;
    private readonly string? _decoderJson;
    private const string DefaultDecoderJson = """{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}""";

    public Tokenizer(BpeModel model, Normalizer? normalizer, PreTokenizer? preTokenizer, PostProcessor? postProcessor,
        IReadOnlyList<AddedToken> addedTokens, string? decoderJson = null)
    {
        Model = model; Normalizer = normalizer; PreTokenizer = preTokenizer; PostProcessor = postProcessor;
        AddedTokens = addedTokens;
        _rawMatcher = new AddedTokenMatcher(addedTokens.Where(t => !t.Normalized || normalizer is null));
        _normalizedMatcher = new AddedTokenMatcher(addedTokens.Where(t => t.Normalized && normalizer is not null));
        _addedById = new Dictionary<int, AddedToken>();
        _addedByContent = new Dictionary<string, AddedToken>();
        foreach (var t in addedTokens) { _addedById[t.Id] = t; _addedByContent[t.Content] = t; }
        _decoderJson = decoderJson;
    }

    /// <summary>One past the largest id (model vocabulary and added tokens).</summary>
    public int VocabSize => Math.Max(Model.VocabSize, AddedTokens.Count == 0 ? 0 : AddedTokens.Max(t => t.Id) + 1);

    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var a) ? a.Id : Model.Vocab.TryGetValue(token, out int id) ? id : null;

    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var a) ? a.Content : Model.IdToToken(id);

    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var a) && a.Special;

    // ---- loading and saving ---------------------------------------------------------------------

    /// <summary>Loads a tokenizer.json, or the tokenizer.json inside a folder.</summary>
    public static Tokenizer Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        if (!File.Exists(file))
            throw new TokenizerException(Directory.Exists(path) ? $"{path}: the folder holds no tokenizer.json"
                : $"{path}: no such file or folder (give a tokenizer.json or a folder that holds one)");
        return FromJson(File.ReadAllText(file), file);
    }

    /// <summary>Parses tokenizer.json text; <paramref name="origin"/> names it in errors.</summary>
    public static Tokenizer FromJson(string json, string origin = "tokenizer.json")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new TokenizerException($"{origin}: not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}"); }
        using (doc)
        {
            try
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new TokenizerException("$: expected a JSON object");
                var model = BpeModel.FromJson(TokenizerJson.Require(root, "model", "$"), "$.model");
                var normalizer = TokenizerJson.Optional(root, "normalizer") is { } n ? Normalizer.FromJson(n, "$.normalizer") : null;
                var pre = TokenizerJson.Optional(root, "pre_tokenizer") is { } p ? PreTokenizer.FromJson(p, "$.pre_tokenizer") : null;
                var post = TokenizerJson.Optional(root, "post_processor") is { } pp ? PostProcessor.FromJson(pp, "$.post_processor") : null;
                string? decoder = null;
                if (TokenizerJson.Optional(root, "decoder") is { } d)
                {
                    string type = TokenizerJson.RequireString(d, "type", "$.decoder");
                    if (type != "ByteLevel") throw new TokenizerException($"$.decoder.type: decoder '{type}' is not supported (only ByteLevel)");
                    decoder = d.GetRawText();
                }
                var added = new List<AddedToken>();
                if (TokenizerJson.Optional(root, "added_tokens") is { } at)
                {
                    if (at.ValueKind != JsonValueKind.Array) throw new TokenizerException("$.added_tokens: expected an array");
                    int i = 0;
                    foreach (var t in at.EnumerateArray()) added.Add(AddedToken.FromJson(t, $"$.added_tokens[{i++}]"));
                }
                return new Tokenizer(model, normalizer, pre, post, added, decoder);
            }
            catch (TokenizerException e) { throw new TokenizerException($"{origin}: {e.Message}"); }
            catch (InvalidOperationException e) { throw new TokenizerException($"{origin}: unexpected value type: {e.Message}"); }
        }
    }

    /// <summary>Writes <c>tokenizer.json</c> into <paramref name="directory"/> in the layout Hugging Face's loaders read.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), ToJson());
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var t in AddedTokens.OrderBy(t => t.Id)) t.Write(w);
            w.WriteEndArray();
            if (Normalizer is null) w.WriteNull("normalizer"); else { w.WritePropertyName("normalizer"); Normalizer.Write(w); }
            if (PreTokenizer is null) w.WriteNull("pre_tokenizer"); else { w.WritePropertyName("pre_tokenizer"); PreTokenizer.Write(w); }
            if (PostProcessor is null) w.WriteNull("post_processor"); else { w.WritePropertyName("post_processor"); PostProcessor.Write(w); }
            w.WritePropertyName("decoder");
            JsonDocument.Parse(_decoderJson ?? DefaultDecoderJson).RootElement.WriteTo(w);
            w.WritePropertyName("model");
            Model.Write(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    // ---- encoding -------------------------------------------------------------------------------

    /// <summary>Token ids of <paramref name="text"/>, with the post-processor's special tokens when <paramref name="addSpecialTokens"/>.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        EncodeInto(text, addSpecialTokens, ids, null, null);
        return ids.ToArray();
    }

    /// <summary>Token ids with each token's character range (in the normalized text; equal to the input when the normalizer changes nothing).</summary>
    public TokenizedText EncodeWithOffsets(string text, bool addSpecialTokens = true)
    {
        var ids = new List<int>(); var offsets = new List<(int, int)>(); var special = new List<bool>();
        EncodeInto(text, addSpecialTokens, ids, offsets, special);
        return new TokenizedText(ids.ToArray(), offsets.ToArray(), special.ToArray());
    }

    private void EncodeInto(string text, bool addSpecialTokens, List<int> ids, List<(int, int)>? offsets, List<bool>? special)
    {
        var before = new List<int>(); var after = new List<int>();
        if (addSpecialTokens) PostProcessor?.Single(before, after);
        foreach (var id in before) Emit(id, (0, 0), true);

        var segments = new List<(int Start, int Length, AddedToken? Token)>();
        if (_rawMatcher.IsEmpty) segments.Add((0, text.Length, null)); else _rawMatcher.Split(text, 0, text.Length, segments);
        var pieces = new List<(int Start, int Length)>();
        var split = new List<(int Start, int Length)>();
        foreach (var (start, length, token) in segments)
        {
            if (token is not null) { Emit(token.Id, (start, start + length), token.Special); continue; }
            string segment = text.Substring(start, length);
            int baseOffset = start;
            // Offsets stay exact unless the normalizer changes the segment; then they index the normalized text.
            if (Normalizer is not null) segment = Normalizer.Normalize(segment);
            var inner = new List<(int Start, int Length, AddedToken? Token)>();
            if (_normalizedMatcher.IsEmpty) inner.Add((0, segment.Length, null)); else _normalizedMatcher.Split(segment, 0, segment.Length, inner);
            foreach (var (s, l, t) in inner)
            {
                if (t is not null) { Emit(t.Id, (baseOffset + s, baseOffset + s + l), t.Special); continue; }
                EncodePlain(segment, s, l, baseOffset, pieces, split, Emit);
            }
        }
        foreach (var id in after) Emit(id, (text.Length, text.Length), true);

        void Emit(int id, (int, int) range, bool isSpecial)
        {
            ids.Add(id);
            offsets?.Add(range);
            special?.Add(isSpecial);
        }
    }

    private void EncodePlain(string segment, int start, int length, int baseOffset, List<(int Start, int Length)> pieces, List<(int Start, int Length)> split,
        Action<int, (int, int), bool> emit)
    {
        if (length == 0) return;
        string text = segment;
        int origStart = start;
        bool prefixed = false;
        if (PreTokenizer is { AddsPrefixSpace: true } && segment[start] != ' ')
        {
            // ByteLevel add_prefix_space: the segment is encoded as if it started with a space.
            text = " " + segment.Substring(start, length);
            prefixed = true;
            start = 0; length = text.Length;
        }
        // Position in `text` → position in the original text (the inserted space maps to the segment start).
        int Map(int p) => baseOffset + (prefixed ? Math.Max(origStart, origStart + p - 1) : p);

        pieces.Clear(); split.Clear();
        pieces.Add((start, length));
        if (PreTokenizer is null) split.AddRange(pieces); else PreTokenizer.Split(text, pieces, split);
        Span<byte> scratch = stackalloc byte[4];
        foreach (var (ps, pl) in split)
        {
            if (pl == 0) continue;
            var encoded = Model.EncodePiece(text.AsSpan(ps, pl));
            int n = encoded.Length / 2;
            // Token offsets: walk the piece's UTF-8 bytes back to character positions. A token that ends
            // inside a multi-byte character covers that whole character.
            int charPos = ps, bytesIntoChar = 0, end = ps + pl;
            for (int t = 0; t < n; t++)
            {
                int tokenStart = charPos, remaining = encoded[n + t], charLen = 1;
                while (remaining > 0 && charPos < end)
                {
                    charLen = char.IsHighSurrogate(text[charPos]) && charPos + 1 < end ? 2 : 1;
                    int charBytes = Encoding.UTF8.GetBytes(text.AsSpan(charPos, charLen), scratch);
                    int take = Math.Min(remaining, charBytes - bytesIntoChar);
                    remaining -= take; bytesIntoChar += take;
                    if (bytesIntoChar == charBytes) { charPos += charLen; bytesIntoChar = 0; }
                }
                int tokenEnd = bytesIntoChar > 0 ? charPos + charLen : charPos;
                emit(encoded[t], (Map(tokenStart), Map(Math.Max(tokenEnd, tokenStart))), false);
            }
        }
    }

    // ---- decoding -------------------------------------------------------------------------------

    /// <summary>
    /// Text of <paramref name="ids"/>: runs of model tokens go from byte-level characters back to bytes and
    /// then to UTF-8 (invalid sequences become U+FFFD); added tokens contribute their content as written.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var text = new StringBuilder(ids.Length * 4);
        var bytes = new List<byte>(ids.Length * 4);
        void Flush()
        {
            text.Append(Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
            bytes.Clear();
        }
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                if (skipSpecialTokens && added.Special) continue;
                Flush();
                text.Append(added.Content);
                continue;
            }
            // Past the vocabulary is the caller's mistake; a gap inside it (an id no token has) is the tokenizer file's.
            string token = Model.IdToToken(id) ?? throw (id >= 0 && id < VocabSize
                ? new TokenizerException($"decode: id {id} has no token in this tokenizer (its vocabulary of size {VocabSize} has gaps)")
                : new ArgumentOutOfRangeException(nameof(ids), $"decode: id {id} is not in the vocabulary (size {VocabSize})"));
            ByteLevel.Decode(token, bytes);
        }
        Flush();
        return text.ToString();
    }
}
