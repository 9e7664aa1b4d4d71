using System.Text.Json;
using AlignSharp.Feedback;
using AlignSharp.Models.ChatTemplates;
using AlignSharp.Models.Transformers;
using FsCheck.Xunit;

namespace AlignSharp.Fuzz.Tests;

/// <summary>FsCheck properties for the parsers that take text directly: any string is accepted or rejected with the own exception.</summary>
public class ParserProperties
{
    /// <summary>Fixed generator seed, so the suite runs the same cases every time (tools/fuzz explores further).</summary>
    const string FixedSeed = "(12345,67891)"; // (seed, gamma); FsCheck requires an odd gamma

    static readonly JsonElement Messages = JsonDocument.Parse("""[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]""").RootElement.Clone();

    static bool OwnOrNothing<TOwn>(Action action) where TOwn : Exception
    {
        try { action(); return true; }
        catch (TOwn e) { return e.Message.Length > 0; }
    }

    [Property(MaxTest = 300, Replay = FixedSeed)]
    public bool Config_json_from_any_text(string? text) =>
        OwnOrNothing<ModelFormatException>(() => ModelConfig.FromJson(text ?? "", "config.json").Validate());

    [Property(MaxTest = 300, Replay = FixedSeed)]
    public bool Config_json_with_any_value_for_any_key(string key, int choice, double number, string? text)
    {
        string value = (choice & 3) switch { 0 => double.IsFinite(number) ? number.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e400", 1 => JsonSerializer.Serialize(text), 2 => "[" + JsonSerializer.Serialize(text) + "]", _ => "{}" };
        string[] keys = ["vocab_size", "hidden_size", "num_attention_heads", "rope_scaling", "eos_token_id", "head_dim", "rope_theta", "architectures", key ?? "x"];
        string json = $$"""{"model_type": "llama", "vocab_size": 8, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, {{JsonSerializer.Serialize(keys[(choice >>> 2) % keys.Length])}}: {{value}}}""";
        return OwnOrNothing<ModelFormatException>(() => ModelConfig.FromJson(json).Validate());
    }

    [Property(MaxTest = 300, Replay = FixedSeed)]
    public bool Chat_template_from_any_text(string? text) =>
        OwnOrNothing<TemplateException>(() => ChatTemplate.Parse(text ?? "", "t.jinja").Render(Messages));

    [Property(MaxTest = 300, Replay = FixedSeed)]
    public bool Chat_template_expression_from_template_tokens(int[] picks) =>
        OwnOrNothing<TemplateException>(() => ChatTemplate.Parse(
            "{{ " + string.Concat((picks ?? []).Select(p => Mutator.TextTokens[(int)((uint)p % (uint)Mutator.TextTokens.Length)])) + " }}", "t.jinja").Render(Messages));

    [Property(MaxTest = 300, Replay = FixedSeed)]
    public bool Constitution_from_any_text(string? text) =>
        OwnOrNothing<FeedbackException>(() => Constitution.Parse(text ?? "", "c.yaml", AlignSharp.Alignment.Environments.DemoWorld.WorldChecks.All));
}
