namespace AlignSharp.Feedback;

/// <summary>A signal source or constitution that cannot be used as given; the message names the file, line or key and the fix.</summary>
public sealed class FeedbackException(string message) : Exception(message);
