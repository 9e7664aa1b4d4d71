namespace AlignSharp.Training;

/// <summary>A training input or state that cannot be used as it is (bad dataset row, bad config key, corrupt checkpoint); the message names the file, line or key and the fix.</summary>
public sealed class TrainingException(string message) : Exception(message);
