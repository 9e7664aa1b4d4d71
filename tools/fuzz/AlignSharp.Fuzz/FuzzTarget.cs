namespace AlignSharp.Fuzz;

/// <summary>
/// One parser a user feeds files to. <see cref="Run"/> reads the input file the way the CLI does and uses what it
/// read (encodes with a loaded tokenizer, renders a loaded template, reads every tensor); it may succeed or throw one
/// of <see cref="OwnExceptions"/> with a message — anything else is a crash.
/// </summary>
/// <param name="Name">The --parser name.</param>
/// <param name="FileName">Name the input file gets (messages name it; some loaders look for it in a folder).</param>
/// <param name="OwnExceptions">The project's exception types this parser may throw.</param>
/// <param name="JsonAware">Whether mutations should replace JSON values.</param>
/// <param name="TextAware">Whether mutations should splice format tokens (Jinja, YAML).</param>
/// <param name="Seeds">Valid inputs, given the repository root.</param>
/// <param name="Run">Parses the file at the given path and uses the result.</param>
public sealed record FuzzTarget(
    string Name, string FileName, Type[] OwnExceptions, bool JsonAware, bool TextAware,
    Func<string, List<byte[]>> Seeds, Action<string> Run)
{
    public bool IsOwn(Exception e) => OwnExceptions.Any(t => t.IsInstanceOfType(e)) && !string.IsNullOrWhiteSpace(e.Message);
}
