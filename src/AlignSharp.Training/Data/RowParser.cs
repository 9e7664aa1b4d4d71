using System.Text.Json;

namespace AlignSharp.Training.Data;

/// <summary>
/// Turns one JSONL line into a <see cref="DatasetRow"/>, or throws <see cref="TrainingException"/> with
/// <c>file:line: what is wrong and how to fix it</c>.
/// </summary>
internal static class RowParser
{
    static readonly string[] Roles = ["system", "user", "assistant", "tool"];

    /// <summary>The kind a row's keys announce, or null when they announce none.</summary>
    public static DatasetKind? Detect(JsonElement row)
    {
        bool Has(string key) => row.TryGetProperty(key, out _);
        if (Has("chosen") || Has("rejected")) return DatasetKind.Preference;
        if (Has("label")) return DatasetKind.UnpairedPreference;
        if (Has("completion")) return DatasetKind.PromptCompletion;
        if (Has("messages") || Has("text")) return DatasetKind.LanguageModeling;
        if (Has("prompt")) return DatasetKind.PromptOnly;
        return null;
    }

    /// <summary>Parses <paramref name="line"/> (1-based <paramref name="lineNumber"/> of <paramref name="file"/>); detects the kind when <paramref name="kind"/> is null.</summary>
    public static DatasetRow Parse(string line, string file, int lineNumber, DatasetKind? kind)
    {
        string origin = $"{file}:{lineNumber}";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e)
        {
            throw new TrainingException($"{origin}: not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')}); each line must hold one JSON object");
        }
        using (doc)
        {
            var row = doc.RootElement;
            if (row.ValueKind != JsonValueKind.Object)
                throw new TrainingException($"{origin}: each line must hold one JSON object (got {TypeName(row)})");
            if (row.TryGetProperty("completions", out _) && row.TryGetProperty("labels", out _) && !row.TryGetProperty("completion", out _))
                throw new TrainingException($"{origin}: step-wise supervision rows (\"completions\" + \"labels\") are not supported yet; convert them to \"prompt\" + \"completion\" + \"label\" rows");
            var detected = Detect(row);
            if (detected is null)
            {
                throw new TrainingException($"{origin}: no dataset keys found (keys: {Keys(row)}); a row needs \"text\" or \"messages\", \"prompt\" + \"completion\", \"prompt\" + \"chosen\" + \"rejected\", or \"prompt\" + \"completion\" + \"label\"");
            }
            var expected = kind ?? detected.Value;
            var context = new RowContext(origin, row, expected, detected.Value);
            DatasetRow result = expected switch
            {
                DatasetKind.LanguageModeling => row.TryGetProperty("messages", out _)
                    ? new LanguageModelingRow(origin, context.Field("messages", conversational: true))
                    : new LanguageModelingRow(origin, context.Field("text", conversational: false)),
                DatasetKind.PromptOnly => new PromptOnlyRow(origin, context.Field("prompt")) { Columns = OtherColumns(row, "prompt") },
                DatasetKind.PromptCompletion => context.PromptCompletion(),
                DatasetKind.Preference => context.Preference(),
                DatasetKind.UnpairedPreference => context.Unpaired(),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
            return result;
        }
    }

    sealed class RowContext(string origin, JsonElement row, DatasetKind expected, DatasetKind detected)
    {
        /// <summary>Reads a required field; <paramref name="conversational"/> forces one form (null accepts both).</summary>
        public TextOrMessages Field(string key, bool? conversational = null)
        {
            if (!row.TryGetProperty(key, out var value))
            {
                string hint = detected != expected ? $"; this row looks like a {DatasetKindNames.Describe(detected)} row" : "";
                throw new TrainingException($"{origin}: \"{key}\" is missing: a {DatasetKindNames.Describe(expected)} row needs it (keys: {Keys(row)}){hint}");
            }
            switch (value.ValueKind)
            {
                case JsonValueKind.String when conversational != true:
                    return TextOrMessages.FromText(value.GetString()!);
                case JsonValueKind.Array when conversational != false:
                    CheckMessages(key, value);
                    return TextOrMessages.FromMessages(value);
                default:
                    string want = conversational switch { true => "a list of messages", false => "a string", _ => "a string or a list of messages" };
                    throw new TrainingException($"{origin}: \"{key}\" must be {want} (got {TypeName(value)})");
            }
        }

        void CheckMessages(string key, JsonElement list)
        {
            if (list.GetArrayLength() == 0)
                throw new TrainingException($"{origin}: \"{key}\" is an empty list; give at least one {{\"role\", \"content\"}} message");
            int i = 0;
            foreach (var m in list.EnumerateArray())
            {
                string at = $"\"{key}\"[{i}]";
                if (m.ValueKind != JsonValueKind.Object)
                    throw new TrainingException($"{origin}: {at} must be a {{\"role\", \"content\"}} object (got {TypeName(m)})");
                if (!m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                    throw new TrainingException($"{origin}: {at}.role must be a string, one of {string.Join(", ", Roles)} ({(m.TryGetProperty("role", out _) ? "got " + TypeName(role) : "missing")})");
                if (!Roles.Contains(role.GetString()))
                    throw new TrainingException($"{origin}: {at}.role must be one of {string.Join(", ", Roles)} (got \"{role.GetString()}\")");
                bool hasToolCalls = m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array;
                if (m.TryGetProperty("content", out var content))
                {
                    if (content.ValueKind != JsonValueKind.String && !(content.ValueKind == JsonValueKind.Null && hasToolCalls))
                        throw new TrainingException($"{origin}: {at}.content must be a string (got {TypeName(content)})");
                }
                else if (!hasToolCalls)
                    throw new TrainingException($"{origin}: {at}.content is missing; every message needs \"content\" (or \"tool_calls\")");
                i++;
            }
        }

        void SameForm(string a, TextOrMessages x, string b, TextOrMessages y)
        {
            if (x.IsConversational != y.IsConversational)
                throw new TrainingException($"{origin}: \"{a}\" is {Form(x)} but \"{b}\" is {Form(y)}; use strings for both (standard) or message lists for both (conversational)");
        }

        static string Form(TextOrMessages f) => f.IsConversational ? "a list of messages" : "a string";

        public PromptCompletionRow PromptCompletion()
        {
            var prompt = Field("prompt");
            var completion = Field("completion");
            SameForm("prompt", prompt, "completion", completion);
            return new PromptCompletionRow(origin, prompt, completion);
        }

        public UnpairedPreferenceRow Unpaired()
        {
            var prompt = Field("prompt");
            var completion = Field("completion");
            SameForm("prompt", prompt, "completion", completion);
            if (!row.TryGetProperty("label", out var label))
                throw new TrainingException($"{origin}: \"label\" is missing: a {DatasetKindNames.Describe(expected)} row needs it (keys: {Keys(row)})");
            if (label.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new TrainingException($"{origin}: \"label\" must be true or false (got {TypeName(label)})");
            return new UnpairedPreferenceRow(origin, prompt, completion, label.GetBoolean());
        }

        public PreferenceRow Preference()
        {
            var chosen = Field("chosen");
            var rejected = Field("rejected");
            SameForm("chosen", chosen, "rejected", rejected);
            float? margin = Margin();
            if (row.TryGetProperty("prompt", out _))
            {
                var prompt = Field("prompt");
                SameForm("prompt", prompt, "chosen", chosen);
                return new PreferenceRow(origin, prompt, chosen, rejected) { Margin = margin };
            }
            return ImplicitPrompt(chosen, rejected) with { Margin = margin };
        }

        /// <summary>The optional "margin" column (TRL's reward trainer), a finite number.</summary>
        float? Margin()
        {
            if (!row.TryGetProperty("margin", out var value) || value.ValueKind == JsonValueKind.Null) return null;
            if (value.ValueKind != JsonValueKind.Number)
                throw new TrainingException($"{origin}: \"margin\" must be a number (got {TypeName(value)})");
            if (!value.TryGetDouble(out double margin) || !double.IsFinite(margin) || Math.Abs(margin) > float.MaxValue)
                throw new TrainingException($"{origin}: \"margin\" must be a finite number (got {value.GetRawText()})");
            return (float)margin;
        }

        /// <summary>TRL's extract_prompt: the longest shared prefix of chosen and rejected becomes the prompt.</summary>
        PreferenceRow ImplicitPrompt(TextOrMessages chosen, TextOrMessages rejected)
        {
            const string fix = "add a \"prompt\" key, or start both with the same prompt messages";
            if (chosen.IsConversational)
            {
                var c = chosen.MessageList; var r = rejected.MessageList;
                int shared = 0, limit = Math.Min(c.Count, r.Count) - 1;  // each side keeps at least one message
                while (shared < limit && JsonElement.DeepEquals(c[shared], r[shared])) shared++;
                if (shared == 0)
                    throw new TrainingException($"{origin}: \"chosen\" and \"rejected\" share no leading messages, so the prompt cannot be inferred; {fix}");
                return new PreferenceRow(origin, TextOrMessages.FromList(c.Take(shared)), TextOrMessages.FromList(c.Skip(shared)),
                    TextOrMessages.FromList(r.Skip(shared)), PromptWasImplicit: true);
            }
            string cs = chosen.Text, rs = rejected.Text;
            int n = 0, max = Math.Min(cs.Length, rs.Length);
            while (n < max && cs[n] == rs[n]) n++;
            if (n > 0 && cs[n - 1] == ' ') n--;  // the completion keeps its leading space, as in TRL
            if (n == 0)
                throw new TrainingException($"{origin}: \"chosen\" and \"rejected\" share no leading text, so the prompt cannot be inferred; {fix}");
            return new PreferenceRow(origin, TextOrMessages.FromText(cs[..n]), TextOrMessages.FromText(cs[n..]), TextOrMessages.FromText(rs[n..]), PromptWasImplicit: true);
        }
    }

    /// <summary>Every column but <paramref name="used"/> as a string (see <see cref="PromptOnlyRow.Columns"/>); null columns left out.</summary>
    static Dictionary<string, string> OtherColumns(JsonElement row, string used)
    {
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in row.EnumerateObject())
        {
            if (p.Name == used) continue;
            string? value = p.Value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => p.Value.GetString()!,
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => p.Value.GetRawText(),
            };
            if (value is not null) columns[p.Name] = value;
        }
        return columns;
    }

    static string Keys(JsonElement row) => string.Join(", ", row.EnumerateObject().Select(p => p.Name)) is { Length: > 0 } k ? k : "none";

    internal static string TypeName(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "list",
        JsonValueKind.Object => "object",
        _ => e.ValueKind.ToString(),
    };
}
