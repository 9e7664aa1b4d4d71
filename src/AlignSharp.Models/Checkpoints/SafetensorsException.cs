namespace AlignSharp.Models.Checkpoints;

/// <summary>A safetensors file or index that cannot be used as it is: the message names the file, the tensor or key, and what is wrong.</summary>
public sealed class SafetensorsException(string message) : Exception(message);
