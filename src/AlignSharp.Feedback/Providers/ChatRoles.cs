using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace AlignSharp.Feedback.Providers;

/// <summary>
/// The chat providers a recipe configures, one block per role it names (<c>policy</c>, <c>judge</c>, <c>teacher</c>,
/// <c>attacker</c>); roles a recipe leaves out are absent. Each block is parsed here, once, into a
/// <see cref="ChatProviderOptions"/>; a bad block is one line naming the file, the role and the key.
/// </summary>
public sealed class ChatRoles
{
    /// <summary>Keys of an endpoint block.</summary>
    public static readonly IReadOnlyList<string> EndpointKeys =
        ["endpoint", "model", "api_key_env", "timeout_seconds", "max_concurrency", "max_retries", "requests_per_minute", "tokens_per_minute"];

    /// <summary>Keys of a local-folder block.</summary>
    public static readonly IReadOnlyList<string> LocalKeys = ["model", "adapter", "max_batch"];

    readonly Dictionary<ProviderRole, ChatProviderOptions> _roles;

    ChatRoles(Dictionary<ProviderRole, ChatProviderOptions> roles) => _roles = roles;

    /// <summary>The configured roles, in recipe order (policy, judge, teacher, attacker).</summary>
    public IReadOnlyList<ChatProviderOptions> All => RoleNames.All.Where(_roles.ContainsKey).Select(r => _roles[r]).ToList();

    /// <summary>The role's provider, or null when the recipe has no block for it.</summary>
    public ChatProviderOptions? this[ProviderRole role] => _roles.GetValueOrDefault(role);

    /// <summary>
    /// Reads whichever role blocks <paramref name="recipe"/> (a recipe's top-level keys) has; other keys are left to
    /// their own readers. Flat dotted keys (<c>judge.model</c>, as <c>--set judge.model=NAME</c> gives them) override
    /// the block's key of that name, or make a block on their own. <paramref name="source"/> names the recipe in
    /// errors ("recipe.yaml").
    /// </summary>
    public static ChatRoles Read(IReadOnlyDictionary<string, object?> recipe, string source)
    {
        var roles = new Dictionary<ProviderRole, ChatProviderOptions>();
        foreach (var role in RoleNames.All)
        {
            string name = RoleNames.Of(role), prefix = name + ".";
            var dotted = recipe.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Key.Length > prefix.Length).ToList();
            bool hasBlock = recipe.TryGetValue(name, out var block);
            if (!hasBlock && dotted.Count == 0) continue;
            if (dotted.Count > 0)
            {
                if (hasBlock && block is not IReadOnlyDictionary<string, object?>) Parse(role, block, source); // names the bad block
                var merged = hasBlock ? new Dictionary<string, object?>((IReadOnlyDictionary<string, object?>)block!) : [];
                foreach (var (key, value) in dotted) merged[key[prefix.Length..]] = value;
                block = merged;
            }
            roles[role] = Parse(role, block, source);
        }
        return new ChatRoles(roles);
    }

    /// <summary>Reads the role blocks of a recipe's YAML mapping (see <see cref="Read(IReadOnlyDictionary{string, object?}, string)"/>).</summary>
    public static ChatRoles Read(YamlMappingNode recipe, string source)
    {
        var top = new Dictionary<string, object?>();
        foreach (var (k, v) in recipe.Children)
            if (k is YamlScalarNode { Value: { } key } && RoleNames.All.Any(r => key == RoleNames.Of(r) || key.StartsWith(RoleNames.Of(r) + ".", StringComparison.Ordinal)))
                top[key] = FromYaml(v, $"{source}: {key}");
        return Read(top, source);
    }

    /// <summary>
    /// One role's block: a mapping with an <c>endpoint</c> key (an OpenAI-compatible server) or without one (a local
    /// model folder). Numbers may be numbers or numeric strings; unknown keys are refused with the known ones listed.
    /// </summary>
    public static ChatProviderOptions Parse(ProviderRole role, object? block, string source)
    {
        string name = RoleNames.Of(role);
        if (block is not IReadOnlyDictionary<string, object?> map)
            throw new FeedbackException($"{source}: {name}: expected a mapping like {{endpoint: http://host:port/v1, model: NAME}} or {{model: DIR}}");
        string Where(string key) => $"{source}: {name}.{key}";

        bool isEndpoint = map.ContainsKey("endpoint");
        var known = isEndpoint ? EndpointKeys : LocalKeys;
        foreach (var key in map.Keys)
            if (!known.Contains(key))
            {
                string hint = !isEndpoint && EndpointKeys.Contains(key)
                    ? $"applies to endpoints only (add {name}.endpoint); a local folder takes {string.Join(", ", LocalKeys)}"
                    : isEndpoint && LocalKeys.Contains(key)
                        ? $"applies to local folders only; an endpoint takes {string.Join(", ", EndpointKeys)}"
                        : $"unknown key; known: {string.Join(", ", known)}";
                throw new FeedbackException($"{Where(key)}: {hint}");
            }

        string Text(string key, bool required)
        {
            if (!map.TryGetValue(key, out var v) || v is null)
                return required ? throw new FeedbackException($"{source}: {name}: {key} is required ({(isEndpoint ? "the model name the endpoint serves" : "a Hugging Face model folder")})") : null!;
            string s = Convert.ToString(v, CultureInfo.InvariantCulture)?.Trim() ?? "";
            if (s.Length == 0) throw new FeedbackException($"{Where(key)}: must not be empty");
            return s;
        }
        double Number(string key, double fallback, double min, string rule)
        {
            if (!map.TryGetValue(key, out var v) || v is null) return fallback;
            double d = v switch
            {
                int i => i,
                long l => l,
                double x => x,
                float f => f,
                decimal m => (double)m,
                string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
                _ => throw new FeedbackException($"{Where(key)}: must be a number (got '{v}')"),
            };
            if (double.IsNaN(d) || d < min) throw new FeedbackException($"{Where(key)}: must be {rule} (got {d.ToString(CultureInfo.InvariantCulture)})");
            return d;
        }
        int Whole(string key, int fallback, int min, string rule)
        {
            double d = Number(key, fallback, min, rule);
            if (d != Math.Floor(d) || d > int.MaxValue) throw new FeedbackException($"{Where(key)}: must be a whole number (got {d.ToString(CultureInfo.InvariantCulture)})");
            return (int)d;
        }

        string model = Text("model", required: true);
        if (!isEndpoint)
            return new ChatProviderOptions
            {
                Role = role, Kind = ProviderKind.LocalFolder, Model = model, Source = source,
                Adapter = map.ContainsKey("adapter") ? Text("adapter", required: false) : null,
                MaxBatch = Whole("max_batch", 16, 1, "at least 1"),
            };

        string url = Text("endpoint", required: true);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new FeedbackException($"{Where("endpoint")}: must be an http:// or https:// URL such as http://127.0.0.1:8000/v1 (got '{url}')");
        string? keyEnv = map.ContainsKey("api_key_env") ? Text("api_key_env", required: false) : null;
        if (keyEnv is not null && !keyEnv.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new FeedbackException($"{Where("api_key_env")}: must be the NAME of an environment variable (letters, digits, _), not the key itself");
        double timeout = Number("timeout_seconds", 60, double.Epsilon, "positive");
        return new ChatProviderOptions
        {
            Role = role, Kind = ProviderKind.Endpoint, Model = model, Endpoint = endpoint, ApiKeyEnv = keyEnv, Source = source,
            TimeoutSeconds = timeout,
            MaxConcurrency = Whole("max_concurrency", 8, 1, "at least 1"),
            MaxRetries = Whole("max_retries", 6, 0, "0 or more"),
            RequestsPerMinute = Whole("requests_per_minute", 0, 0, "0 (unlimited) or more"),
            TokensPerMinute = Whole("tokens_per_minute", 0, 0, "0 (unlimited) or more"),
        };
    }

    /// <summary>A YAML node as plain values: mappings become dictionaries, scalars strings, sequences lists.</summary>
    static object? FromYaml(YamlNode node, string where) => node switch
    {
        YamlMappingNode m => m.Children.ToDictionary(
            kv => (kv.Key as YamlScalarNode)?.Value ?? throw new FeedbackException($"{where}: keys must be plain names"),
            kv => FromYaml(kv.Value, where)) as IReadOnlyDictionary<string, object?>,
        // A plain ~, null or empty value is YAML's null (the key given without a value).
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" } => null,
        YamlScalarNode s => s.Value,
        YamlSequenceNode q => q.Children.Select(c => FromYaml(c, where)).ToList(),
        _ => null,
    };
}
