using AlignSharp.Models.Transformers;

namespace AlignSharp.Training.Core;

/// <summary>
/// max_length must fit the model's max_position_embeddings: past it there is no position embedding, or rotary angles
/// the model never trained on. Checked from config.json before a model, tokenizer or dataset loads.
/// </summary>
public static class ContextLength
{
    /// <exception cref="TrainingException">max_length is above the model's context, naming both and the file.</exception>
    public static void Require(int maxLength, ModelConfig config, string configPath)
    {
        if (maxLength > config.MaxPositions)
            throw new TrainingException($"max_length {maxLength} is above the model's max_position_embeddings {config.MaxPositions} ({configPath}); set max_length to at most {config.MaxPositions}");
    }
}
