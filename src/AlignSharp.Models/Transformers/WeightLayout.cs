namespace AlignSharp.Models.Transformers;

/// <summary>
/// The Hugging Face tensor names and shapes of each family, as data. Shapes are as stored in the checkpoint
/// (GPT-2's Conv1D weights are [in, out]; <see cref="IsConv1D"/> marks them, and the model keeps them
/// transposed to the [out, in] Linear layout in memory).
/// </summary>
public static class WeightLayout
{
    /// <summary>Every weight of a model with this config, in checkpoint order.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Weights(ModelConfig c)
    {
        var list = new List<(string, int[])>();
        int C = c.HiddenSize, I = c.IntermediateSize, qDim = c.NumHeads * c.HeadDim, kvDim = c.NumKvHeads * c.HeadDim;
        void Add(string name, params int[] shape) => list.Add((name, shape));
        if (c.Architecture == Architecture.Gpt2)
        {
            Add("transformer.wte.weight", c.VocabSize, C);
            Add("transformer.wpe.weight", c.MaxPositions, C);
            for (int i = 0; i < c.NumLayers; i++)
            {
                string p = $"transformer.h.{i}.";
                Add(p + "ln_1.weight", C); Add(p + "ln_1.bias", C);
                Add(p + "attn.c_attn.weight", C, 3 * C); Add(p + "attn.c_attn.bias", 3 * C);
                Add(p + "attn.c_proj.weight", C, C); Add(p + "attn.c_proj.bias", C);
                Add(p + "ln_2.weight", C); Add(p + "ln_2.bias", C);
                Add(p + "mlp.c_fc.weight", C, I); Add(p + "mlp.c_fc.bias", I);
                Add(p + "mlp.c_proj.weight", I, C); Add(p + "mlp.c_proj.bias", C);
            }
            Add("transformer.ln_f.weight", C); Add("transformer.ln_f.bias", C);
            if (c.HasLmHead && !c.TieWordEmbeddings) Add("lm_head.weight", c.VocabSize, C);
            return list;
        }
        Add("model.embed_tokens.weight", c.VocabSize, C);
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            Add(p + "input_layernorm.weight", C);
            Add(p + "self_attn.q_proj.weight", qDim, C); if (c.QkvBias) Add(p + "self_attn.q_proj.bias", qDim);
            Add(p + "self_attn.k_proj.weight", kvDim, C); if (c.QkvBias) Add(p + "self_attn.k_proj.bias", kvDim);
            Add(p + "self_attn.v_proj.weight", kvDim, C); if (c.QkvBias) Add(p + "self_attn.v_proj.bias", kvDim);
            Add(p + "self_attn.o_proj.weight", C, qDim); if (c.OutputProjectionBias) Add(p + "self_attn.o_proj.bias", C);
            Add(p + "post_attention_layernorm.weight", C);
            Add(p + "mlp.gate_proj.weight", I, C); if (c.MlpHasBias) Add(p + "mlp.gate_proj.bias", I);
            Add(p + "mlp.up_proj.weight", I, C); if (c.MlpHasBias) Add(p + "mlp.up_proj.bias", I);
            Add(p + "mlp.down_proj.weight", C, I); if (c.MlpHasBias) Add(p + "mlp.down_proj.bias", C);
        }
        Add("model.norm.weight", C);
        if (c.HasLmHead && !c.TieWordEmbeddings) Add("lm_head.weight", c.VocabSize, C);
        return list;
    }

    /// <summary>GPT-2's Conv1D weights, stored [in, out].</summary>
    public static bool IsConv1D(ModelConfig c, string name) =>
        c.Architecture == Architecture.Gpt2 && name.EndsWith(".weight") &&
        (name.Contains(".attn.c_attn.") || name.Contains(".attn.c_proj.") || name.Contains(".mlp.c_fc.") || name.Contains(".mlp.c_proj."));

    /// <summary>
    /// The canonical name for a checkpoint name: GPT-2 checkpoints saved from GPT2Model omit "transformer.";
    /// returns null for non-parameter buffers that checkpoints sometimes carry (GPT-2 attn.bias masks, rotary inv_freq).
    /// </summary>
    public static string? Canonical(ModelConfig c, string name)
    {
        if (name.EndsWith(".attn.bias") || name.EndsWith(".attn.masked_bias") || name.EndsWith("rotary_emb.inv_freq")) return null;
        if (c.Architecture == Architecture.Gpt2 && !name.StartsWith("transformer.") && !name.StartsWith("lm_head.") && !name.StartsWith("score.")) return "transformer." + name;
        return name;
    }
}
