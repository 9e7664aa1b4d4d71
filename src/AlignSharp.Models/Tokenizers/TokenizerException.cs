namespace AlignSharp.Models.Tokenizers;

/// <summary>A tokenizer file that cannot be used as it is: the message names the file, the JSON path and the fix.</summary>
public sealed class TokenizerException(string message) : Exception(message);
