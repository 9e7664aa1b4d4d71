namespace AlignSharp.Eval;

/// <summary>An evaluation input that cannot be used as it is; the message names what and why.</summary>
public sealed class EvalException(string message) : Exception(message);
