using System.Text;

namespace AlignSharp.Models.Tokenizers;

/// <summary>The pre-tokenization family a trained tokenizer follows.</summary>
public enum TokenizerStyle
{
    /// <summary>GPT-2: ByteLevel pre-tokenizer with the GPT-2 regex; no BOS.</summary>
    Gpt2,
    /// <summary>Llama-3: cl100k-style Split regex (digits in groups of up to 3), ignore_merges, optional BOS.</summary>
    Llama3,
    /// <summary>Qwen2: NFC normalizer, Split regex with single digits; no BOS.</summary>
    Qwen2,
}

/// <summary>Options of <see cref="BpeTrainer"/>.</summary>
/// <param name="VocabSize">Total vocabulary size, special tokens and the 256 byte tokens included.</param>
/// <param name="SpecialTokens">Added as special tokens with the first ids, in this order.</param>
/// <param name="MinFrequency">A pair seen fewer times is never merged.</param>
/// <param name="Style">Pre-tokenizer family.</param>
/// <param name="BosToken">When set (it must be one of the special tokens), encoding with special tokens prepends it.</param>
public sealed record BpeTrainerOptions(int VocabSize, IReadOnlyList<string>? SpecialTokens = null, int MinFrequency = 2,
    TokenizerStyle Style = TokenizerStyle.Llama3, string? BosToken = null);

/// <summary>
/// Trains a byte-level BPE (Sennrich et al. 2016) on raw text: texts are pre-tokenized into words and
/// counted, every word starts as its UTF-8 bytes, and the most frequent adjacent pair is merged until the
/// vocabulary is full. Pair counts are updated incrementally for the words a merge touches, with a lazy
/// max-heap of pairs, so each merge costs time proportional to the words containing the pair.
/// Ties go to the pair with the smaller ids, so training is deterministic.
/// </summary>
public static class BpeTrainer
{
    /// <summary>The smallest vocabulary a byte-level BPE can have: one token per byte value (256) plus the special tokens; merges are added above it.</summary>
    public static int MinimumVocabSize(int specialTokens) => 256 + specialTokens;

    public static Tokenizer Train(IEnumerable<string> texts, BpeTrainerOptions options, Action<int, int>? progress = null)
    {
        var specials = options.SpecialTokens ?? [];
        if (options.VocabSize < MinimumVocabSize(specials.Count))
            throw new ArgumentException($"vocabulary size {options.VocabSize} is below the {MinimumVocabSize(specials.Count)} tokens every byte-level BPE needs (256 bytes + {specials.Count} special tokens)");
        if (options.BosToken is not null && !specials.Contains(options.BosToken))
            throw new ArgumentException($"BOS token '{options.BosToken}' must be one of the special tokens");

        var (normalizer, preTokenizer, ignoreMerges) = Pipeline(options.Style);
        var special = specials.Select((t, i) => new AddedToken(i, t, Special: true)).ToList();

        // 1. Count words.
        var counts = new Dictionary<string, long>();
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        var pieces = new List<(int Start, int Length)>();
        var split = new List<(int Start, int Length)>();
        var specialMatcher = new AddedTokenMatcher(special);
        var segments = new List<(int Start, int Length, AddedToken? Token)>();
        foreach (var raw in texts)
        {
            string text = normalizer?.Normalize(raw) ?? raw;
            segments.Clear();
            specialMatcher.Split(text, 0, text.Length, segments);
            foreach (var (s, l, token) in segments)
            {
                if (token is not null || l == 0) continue;
                pieces.Clear(); split.Clear();
                pieces.Add((s, l));
                preTokenizer.Split(text, pieces, split);
                foreach (var (ps, pl) in split)
                {
                    var span = text.AsSpan(ps, pl);
                    lookup[span] = lookup.TryGetValue(span, out long c) ? c + 1 : 1;
                }
            }
        }

        // 2. Initial vocabulary: special tokens, then the 256 byte tokens in byte order.
        var tokens = new List<string>(options.VocabSize);
        tokens.AddRange(specials);
        var vocab = new Dictionary<string, int>();
        for (int i = 0; i < tokens.Count; i++) vocab[tokens[i]] = i;
        int byteBase = tokens.Count;
        for (int b = 0; b < 256; b++) { string t = ByteLevel.ByteToChar[b].ToString(); vocab[t] = tokens.Count; tokens.Add(t); }

        var words = new int[counts.Count][];
        var freq = new long[counts.Count];
        int w = 0;
        foreach (var (word, c) in counts)
        {
            var bytes = Encoding.UTF8.GetBytes(word);
            words[w] = bytes.Select(b => byteBase + b).ToArray();
            freq[w++] = c;
        }

        // 3. Pair statistics.
        var pairCount = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        var changed = new HashSet<long>();
        for (int i = 0; i < words.Length; i++) AddPairs(i, +1);
        var heap = new PriorityQueue<long, (long NegCount, long Key)>();
        foreach (var (key, c) in pairCount) heap.Enqueue(key, (-c, key));

        var merges = new List<(string, string)>();
        int target = options.VocabSize;
        while (vocab.Count < target && heap.TryDequeue(out long pair, out var priority))
        {
            long current = pairCount.GetValueOrDefault(pair);
            if (current != -priority.NegCount) continue; // stale entry; the fresh one is in the heap
            if (current < Math.Max(1, options.MinFrequency)) break;
            int a = (int)(pair >> 32), b = (int)(pair & 0xFFFFFFFF);
            string merged = tokens[a] + tokens[b];
            if (!vocab.TryGetValue(merged, out int newId)) { newId = tokens.Count; vocab[merged] = newId; tokens.Add(merged); }
            merges.Add((tokens[a], tokens[b]));

            changed.Clear();
            foreach (int i in where[pair].ToArray())
            {
                AddPairs(i, -1);
                words[i] = MergeWord(words[i], a, b, newId);
                AddPairs(i, +1);
            }
            foreach (long key in changed)
                if (pairCount.TryGetValue(key, out long c) && c > 0) heap.Enqueue(key, (-c, key));
            progress?.Invoke(vocab.Count, target);
        }

        var model = new BpeModel(vocab, merges, ignoreMerges);
        PostProcessor post = options.BosToken is { } bos
            ? new SequencePostProcessor([
                new ByteLevelPostProcessor("""{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}"""),
                TemplateProcessing.FromJson(System.Text.Json.JsonDocument.Parse(BosTemplate(bos, vocab[bos])).RootElement, "post_processor")])
            : new ByteLevelPostProcessor("""{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}""");
        return new Tokenizer(model, normalizer, preTokenizer, post, special);

        void AddPairs(int i, int sign)
        {
            var word = words[i];
            for (int k = 0; k + 1 < word.Length; k++)
            {
                long key = ((long)word[k] << 32) | (uint)word[k + 1];
                pairCount[key] = pairCount.GetValueOrDefault(key) + sign * freq[i];
                if (sign > 0)
                {
                    if (!where.TryGetValue(key, out var set)) where[key] = set = new HashSet<int>();
                    set.Add(i);
                }
                changed.Add(key);
            }
        }
    }

    private static int[] MergeWord(int[] word, int a, int b, int merged)
    {
        var result = new List<int>(word.Length);
        for (int k = 0; k < word.Length; k++)
        {
            if (k + 1 < word.Length && word[k] == a && word[k + 1] == b) { result.Add(merged); k++; }
            else result.Add(word[k]);
        }
        return result.ToArray();
    }

    /// <summary>Llama-3's post-processor: BOS before every sequence.</summary>
    private static string BosTemplate(string bos, int id)
    {
        static System.Text.Json.Nodes.JsonObject Special(string token, int typeId) => new() { ["SpecialToken"] = new System.Text.Json.Nodes.JsonObject { ["id"] = token, ["type_id"] = typeId } };
        static System.Text.Json.Nodes.JsonObject Sequence(string name, int typeId) => new() { ["Sequence"] = new System.Text.Json.Nodes.JsonObject { ["id"] = name, ["type_id"] = typeId } };
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new System.Text.Json.Nodes.JsonArray(Special(bos, 0), Sequence("A", 0)),
            ["pair"] = new System.Text.Json.Nodes.JsonArray(Special(bos, 0), Sequence("A", 0), Special(bos, 1), Sequence("B", 1)),
            ["special_tokens"] = new System.Text.Json.Nodes.JsonObject
            {
                [bos] = new System.Text.Json.Nodes.JsonObject { ["id"] = bos, ["ids"] = new System.Text.Json.Nodes.JsonArray(id), ["tokens"] = new System.Text.Json.Nodes.JsonArray(bos) },
            },
        };
        return json.ToJsonString();
    }

    /// <summary>Normalizer, pre-tokenizer and ignore_merges of each style, as the reference tokenizer.json files define them.</summary>
    internal static (Normalizer? Normalizer, PreTokenizer PreTokenizer, bool IgnoreMerges) Pipeline(TokenizerStyle style) => style switch
    {
        TokenizerStyle.Gpt2 => (null, new ByteLevelPreTokenizer(false, true, true), false),
        TokenizerStyle.Llama3 => (null, new SequencePreTokenizer([new SplitPreTokenizer(SplitPatterns.Llama3Regex, null, "Isolated"), new ByteLevelPreTokenizer(false, false, true)]), true),
        TokenizerStyle.Qwen2 => (new UnicodeNormalizer(NormalizationForm.FormC, "NFC"),
            new SequencePreTokenizer([new SplitPreTokenizer(SplitPatterns.Qwen2Regex, null, "Isolated"), new ByteLevelPreTokenizer(false, false, false)]), false),
        _ => throw new ArgumentOutOfRangeException(nameof(style)),
    };
}
