using System.Text.Json;
using AlignSharp.Training.Data;
using static AlignSharp.Tensors.Ops;

namespace AlignSharp.Training.Tests.Data;

public class PackingAndCollationTests
{
    const int Eos = 9;

    static SftExample Example(int first, int length, int masked = 0)
    {
        var ids = Enumerable.Range(first, length - 1).Append(Eos).ToArray();
        var labels = (int[])ids.Clone();
        Array.Fill(labels, IgnoreIndex, 0, masked);
        return new SftExample(ids, labels);
    }

    [Fact]
    public void Packing_fills_fixed_rows_and_records_sequence_starts()
    {
        var examples = new[] { Example(10, 5, masked: 2), Example(20, 3), Example(30, 7) };
        var rows = SequencePacker.Pack(examples, maxLength: 6);

        Assert.Equal([6, 6, 3], rows.Select(r => r.Length));
        Assert.Equal(examples.SelectMany(e => e.InputIds), rows.SelectMany(r => r.InputIds));   // order kept, nothing lost
        Assert.Equal([0, 5], rows[0].SequenceStarts);
        Assert.Equal([0, 2], rows[1].SequenceStarts);   // row 1 begins inside example 1
        Assert.Equal([0], rows[2].SequenceStarts);

        // Labels stay aligned with their tokens; each example's first token gets −100.
        int[] expected = [.. new[] { IgnoreIndex, IgnoreIndex, 12, 13, Eos }, .. new[] { IgnoreIndex, 21, Eos }, .. new[] { IgnoreIndex, 31, 32, 33, 34, 35, Eos }];
        Assert.Equal(expected, rows.SelectMany(r => r.Labels));
        Assert.Equal([0, 1, 2, 3, 4, 0], rows[0].PositionIds());
        Assert.Equal([0, 1, 0, 1, 2, 3], rows[1].PositionIds());

        var again = SequencePacker.Pack(examples, 6);
        Assert.Equal(rows.SelectMany(r => r.Labels), again.SelectMany(r => r.Labels));
    }

    [Fact]
    public void Packing_appends_eos_where_missing()
    {
        var rows = SequencePacker.Pack([new SftExample([1, 2], [1, 2]), new SftExample([3, Eos], [IgnoreIndex, IgnoreIndex])], 10, eosId: Eos);
        Assert.Equal([1, 2, Eos, 3, Eos], Assert.Single(rows).InputIds);
        Assert.Equal([IgnoreIndex, 2, Eos, IgnoreIndex, IgnoreIndex], rows[0].Labels);
        Assert.Equal([0, 3], rows[0].SequenceStarts);
    }

    [Fact]
    public void Packed_batches_carry_positions_and_starts()
    {
        var rows = SequencePacker.Pack([Example(10, 5), Example(20, 3), Example(30, 7)], 6);
        var batch = Collator.Packed(rows, padId: 0);
        Assert.Equal((3, 6), (batch.B, batch.T));
        Assert.Equal([0, 1, 2, 0, 0, 0], batch.PositionIds![12..]);
        Assert.Equal([1f, 1f, 1f, 0f, 0f, 0f], batch.AttentionMask[12..]);
        Assert.Equal([0, 2], batch.SequenceStarts![1]);
    }

    [Fact]
    public void Sft_batches_are_right_padded()
    {
        var batch = Collator.Sft([Example(10, 3, masked: 1), Example(20, 5)], padId: 7, padToMultipleOf: 4);
        Assert.Equal((2, 8), (batch.B, batch.T));
        Assert.Equal([10, 11, Eos, 7, 7, 7, 7, 7, 20, 21, 22, 23, Eos, 7, 7, 7], batch.InputIds);
        Assert.Equal([IgnoreIndex, 11, Eos, IgnoreIndex, IgnoreIndex, IgnoreIndex, IgnoreIndex, IgnoreIndex], batch.RowLabels(0).ToArray());
        Assert.Equal([1f, 1f, 1f, 0f, 0f, 0f, 0f, 0f], batch.AttentionMask[..8]);
        Assert.Equal([3, 5], batch.RowLengths);
    }

    [Fact]
    public void Preference_batches_put_chosen_rows_first_then_rejected()
    {
        var pairs = new[]
        {
            new PreferenceExample([1, 2], [3, Eos], [4, 4, Eos]),
            new PreferenceExample([5], [6, 6, 6, Eos], [7, Eos]),
        };
        var batch = Collator.Preference(pairs, padId: 0);
        var s = batch.Sequences;
        Assert.Equal((4, 5, 2), (s.B, s.T, batch.Pairs));
        Assert.Equal([1, 2, 3, Eos, 0], s.Row(0).ToArray());
        Assert.Equal([5, 6, 6, 6, Eos], s.Row(1).ToArray());
        Assert.Equal([1, 2, 4, 4, Eos], s.Row(2).ToArray());
        Assert.Equal([5, 7, Eos, 0, 0], s.Row(3).ToArray());
        Assert.Equal([IgnoreIndex, IgnoreIndex, 3, Eos, IgnoreIndex], s.RowLabels(0).ToArray());
        Assert.Equal([IgnoreIndex, 7, Eos, IgnoreIndex, IgnoreIndex], s.RowLabels(3).ToArray());
        Assert.Equal([2, 4, 3, 2], batch.CompletionLengths);
        Assert.Equal([2, 1, 2, 1], batch.PromptLengths);
    }

    [Fact]
    public void Kto_batches_pair_each_prompt_with_the_previous_completion_for_the_kl_term()
    {
        var examples = new[]
        {
            new UnpairedExample([1], [10, Eos], true),
            new UnpairedExample([2], [20, 20, Eos], false),
            new UnpairedExample([3], [30, Eos], true),
        };
        var batch = Collator.Unpaired(examples, padId: 0);
        Assert.Equal([true, false, true], batch.Desirable);
        Assert.Equal([1, 10, Eos, 0], batch.Sequences.Row(0).ToArray());
        // TRL's _get_kl_dataset: completions rotated by one, [last] + [:-1].
        Assert.Equal([2, 0, 1], batch.KlCompletionSource);
        Assert.Equal([1, 30, Eos, 0], batch.KlSequences.Row(0).ToArray());
        Assert.Equal([2, 10, Eos, 0], batch.KlSequences.Row(1).ToArray());
        Assert.Equal([3, 20, 20, Eos], batch.KlSequences.Row(2).ToArray());
        Assert.Equal([IgnoreIndex, 20, 20, Eos], batch.KlSequences.RowLabels(2).ToArray());
        Assert.Equal([2, 2, 3], batch.KlCompletionLengths);
        Assert.Equal([2, 3, 2], batch.CompletionLengths);

        var capped = Collator.Unpaired(examples, 0, new TruncationOptions { MaxLength = 3 });
        Assert.Equal([20, 20, Eos], capped.KlSequences.Row(2).ToArray());   // keep_end: the prompt goes first
    }

    [Fact]
    public void Real_preference_batch_decodes_back_to_prompt_plus_completion()
    {
        var qwen = TestData.Qwen();
        var pairs = JsonlDataset.ReadAll(TestData.File("preference.jsonl")).Cast<PreferenceRow>().Select(r => qwen.Preference(r)).ToList();
        var batch = Collator.Preference(pairs, qwen.PadId);
        var s = batch.Sequences;
        string Text(int b) => qwen.Tokenizer.Decode(s.Row(b)[..s.RowLengths[b]]);
        Assert.Equal("The sky is blue.<|im_end|>", Text(0));
        Assert.Equal("2 + 2 = 5<|im_end|>", Text(3));
        Assert.Equal(" 4<|im_end|>", TestData.DecodeLabeled(qwen.Tokenizer, s.RowLabels(1).ToArray()));
    }
}

public class DataOrderTests
{
    [Fact]
    public void Permutations_are_deterministic_and_differ_by_epoch_and_seed()
    {
        var a = DataOrder.Permutation(50, seed: 1, epoch: 0);
        Assert.Equal(Enumerable.Range(0, 50), a.Order());
        Assert.Equal(a, DataOrder.Permutation(50, 1, 0));
        Assert.NotEqual(a, DataOrder.Permutation(50, 1, 1));
        Assert.NotEqual(a, DataOrder.Permutation(50, 2, 0));
        Assert.NotEqual(Enumerable.Range(0, 50), a);
        // Pinned so a change of generator (which would break resuming old runs) is noticed.
        Assert.Equal([5, 2, 3, 7, 1, 4, 6, 0], DataOrder.Permutation(8, 42, 0));
        Assert.Equal(8, DataOrder.Permutation(8, 42, 3).Distinct().Count());
    }

    [Fact]
    public void Batches_stay_within_an_epoch_and_epochs_follow_each_other()
    {
        var order = new DataOrder(5, seed: 7);
        var batches = Enumerable.Range(0, 4).Select(_ => order.NextBatch(2)).ToList();
        Assert.Equal([2, 2, 1, 2], batches.Select(b => b.Length));
        Assert.Equal(DataOrder.Permutation(5, 7, 0), batches.Take(3).SelectMany(b => b));
        Assert.Equal(DataOrder.Permutation(5, 7, 1)[..2], batches[3]);
        Assert.Equal(new DataPosition(1, 2), order.Position);
    }

    [Fact]
    public void A_resumed_order_continues_exactly_where_it_stopped()
    {
        var run = new DataOrder(13, seed: 3);
        var seen = Enumerable.Range(0, 20).Select(_ => run.Next()).ToList();
        string saved = JsonSerializer.Serialize(run.Position);
        Assert.Equal("""{"Epoch":1,"Index":7}""", saved);
        var rest = Enumerable.Range(0, 30).Select(_ => run.Next()).ToList();

        var resumed = new DataOrder(13, seed: 3, position: JsonSerializer.Deserialize<DataPosition>(saved));
        Assert.Equal(rest, Enumerable.Range(0, 30).Select(_ => resumed.Next()));
        Assert.Equal(DataOrder.Permutation(13, 3, 0).Concat(DataOrder.Permutation(13, 3, 1)[..7]), seen);
    }

    [Fact]
    public void Unshuffled_order_is_the_dataset_order_and_bad_positions_are_rejected()
    {
        var order = new DataOrder(3, seed: 0, shuffle: false);
        Assert.Equal([0, 1, 2, 0], Enumerable.Range(0, 4).Select(_ => order.Next()));
        var e = Assert.Throws<TrainingException>(() => new DataOrder(3, 0, position: new DataPosition(0, 9)));
        Assert.Contains("does not fit a dataset of 3 examples", e.Message);
    }
}
