using System.Text;
using System.Text.Json;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Tokenizers;

namespace AlignSharp.Cli;

/// <summary>`alignsharp chat render|encode`: apply a chat template as transformers' apply_chat_template does.</summary>
internal static class ChatCommand
{
    private static OptionSpec[] Shared(string tokenizer) =>
    [
        new("tokenizer", "DIR", tokenizer),
        new("template", "FILE|NAME", $"chat template: a Jinja file or a built-in name ({string.Join(", ", BuiltInTemplates.Names)}); wins over the folder's own"),
        new("messages", "FILE.json", "a JSON array of messages, or {\"messages\": [...], \"tools\": [...]}; required"),
        OptionSpec.Flag("add-generation-prompt", "end with the header of an assistant turn, as for generation"),
    ];

    internal static readonly CommandSpec RenderSpec = new("chat render", "(--tokenizer DIR | --template FILE|NAME) --messages FILE.json [--add-generation-prompt]",
        "print the conversation rendered by the chat template, exactly",
        Shared("tokenizer folder whose tokenizer_config.json gives the chat template and its special tokens"));

    internal static readonly CommandSpec EncodeSpec = new("chat encode", "--tokenizer DIR [--template FILE|NAME] --messages FILE.json [--add-generation-prompt]",
        "print the token ids, then the assistant-token mask (1 = assistant)",
        Shared("tokenizer folder (tokenizer.json, and the chat template unless --template); required"));

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new UsageException("chat: name a subcommand (render, encode)");
        if (args[0] is not ("render" or "encode")) throw new UsageException($"chat: unknown subcommand '{args[0]}' (known: render, encode)");
        var o = new Options(args[1..], args[0] == "render" ? RenderSpec : EncodeSpec);
        string cmd = $"chat {args[0]}";
        var (template, options) = Template(o, cmd, stderr);
        string messagesPath = o.Required("messages", cmd);
        var (messages, tools) = Messages(messagesPath, cmd);
        options = options with { AddGenerationPrompt = o.Flag("add-generation-prompt"), Tools = tools };
        try
        {
            if (args[0] == "render")
            {
                stdout.Write(template.Render(messages, options).Text);
                return 0;
            }
            string dir = o.Value("tokenizer") ?? throw new UsageException($"{cmd}: --tokenizer is required to tokenize");
            var encoding = ChatEncoder.Encode(Tokenizer.Load(dir), template, messages, options);
            stdout.WriteLine(string.Join(' ', encoding.Ids));
            stdout.WriteLine(string.Join(' ', encoding.AssistantMask.Select(m => m ? 1 : 0)));
            return 0;
        }
        catch (TemplateException e) when (e.RaisedByTemplate)
        {
            // The template's own raise_exception text says what it wants, but not which template or which conversation.
            throw new TemplateException($"{messagesPath}: {e.Origin ?? "the chat template"} refuses this conversation: {e.Message}",
                e.Line, e.Column, e.Origin, raisedByTemplate: true, e);
        }
    }

    /// <summary>
    /// --template (a file or a built-in name) wins over the tokenizer folder's own chat_template; a folder without one
    /// uses the same fallback as generate --chat and training (<see cref="ChatEncoder.FromFolderOrFallback"/>), said on stderr.
    /// </summary>
    private static (ChatTemplate, ChatTemplateOptions) Template(Options o, string cmd, TextWriter stderr)
    {
        string? folder = o.Value("tokenizer"), template = o.Value("template");
        if (folder is not null && File.Exists(folder)) folder = Path.GetDirectoryName(Path.GetFullPath(folder))!;
        else if (folder is not null && !Directory.Exists(folder)) throw new UsageException($"{cmd}: --tokenizer {folder}: no such folder or file");
        var options = folder is not null ? ChatEncoder.OptionsFromFolder(folder) : new ChatTemplateOptions();
        if (template is not null)
        {
            if (File.Exists(template)) return (ChatTemplate.Parse(File.ReadAllText(template), template), options);
            if (BuiltInTemplates.Names.Contains(template, StringComparer.OrdinalIgnoreCase)) return (BuiltInTemplates.Get(template), options);
            throw new UsageException($"{cmd}: --template {template}: no such file, and not a built-in template ({string.Join(", ", BuiltInTemplates.Names)})");
        }
        if (folder is null) throw new UsageException($"{cmd}: give --tokenizer DIR (its tokenizer_config.json chat_template) or --template FILE|NAME");
        var own = ChatEncoder.FromFolderOrFallback(folder, out bool fallback);
        if (fallback) stderr.WriteLine($"alignsharp: note: {ChatEncoder.FallbackNote(folder, $"pass --template FILE|NAME ({string.Join(", ", BuiltInTemplates.Names)})")}");
        return (own, options);
    }

    /// <summary>The messages file: a JSON array of messages, or an object with "messages" (and optional "tools").</summary>
    private static (JsonElement Messages, JsonElement? Tools) Messages(string path, string cmd)
    {
        if (!File.Exists(path)) throw new UsageException($"{cmd}: --messages {path}: file not found");
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllText(path, Encoding.UTF8)).RootElement; }
        catch (JsonException e) { throw new UsageException($"{cmd}: {path}: not valid JSON at line {e.LineNumber + 1}: {e.Message}"); }
        if (root.ValueKind == JsonValueKind.Array) return (CheckRoles(root, path, cmd), null);
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array)
            return (CheckRoles(m, path, cmd), root.TryGetProperty("tools", out var t) ? t : null);
        throw new UsageException($"{cmd}: {path}: expected a JSON array of messages or {{\"messages\": [...], \"tools\": [...]}}");
    }

    /// <summary>Every message is an object with a string role (templates index message['role'] before anything else).</summary>
    private static JsonElement CheckRoles(JsonElement messages, string path, string cmd)
    {
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw new UsageException($"{cmd}: {path}: message {i}: expected an object with a string \"role\" (and \"content\"), found {Shorten(message.GetRawText())}");
            i++;
        }
        return messages;
    }

    private static string Shorten(string json) => json.Length <= 60 ? json : json[..57] + "...";
}
