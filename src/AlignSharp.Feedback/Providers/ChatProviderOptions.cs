using System.Globalization;

namespace AlignSharp.Feedback.Providers;

/// <summary>The part a chat model plays in a recipe; each has its own block (<c>judge: {...}</c>), spelled lower case.</summary>
public enum ProviderRole
{
    /// <summary>The model being aligned, when it is served rather than trained in process.</summary>
    Policy,
    /// <summary>Scores responses against principles (LLM-as-a-judge).</summary>
    Judge,
    /// <summary>Writes reference or revised responses (distillation, critique-and-revise).</summary>
    Teacher,
    /// <summary>Writes adversarial prompts (red teaming).</summary>
    Attacker,
}

/// <summary>Where a role's model runs.</summary>
public enum ProviderKind
{
    /// <summary>An OpenAI-compatible chat-completions endpoint (vLLM, SGLang, TGI, llama.cpp server, Ollama, OpenAI, <c>alignsharp serve</c>).</summary>
    Endpoint,
    /// <summary>A Hugging Face model folder run in process by <c>LocalChatClient</c>.</summary>
    LocalFolder,
}

/// <summary>
/// One role's chat provider as a recipe block gives it (<see cref="ChatRoles"/> parses it):
/// <c>judge: {endpoint: http://host:port/v1, model: NAME, api_key_env: VAR, timeout_seconds: 60, max_concurrency: 8,
/// max_retries: 6, requests_per_minute: 0, tokens_per_minute: 0}</c> for an endpoint, or
/// <c>judge: {model: DIR, adapter: DIR, max_batch: 16}</c> for a local folder.
/// The record holds the <em>name</em> of the API-key variable, never the key: <see cref="ChatProviders.Create"/> reads
/// the environment when it builds the client, so no record, fingerprint, log line, exception or store row carries it.
/// </summary>
public sealed record ChatProviderOptions
{
    /// <summary>Which role this block configures (named in every error).</summary>
    public required ProviderRole Role { get; init; }

    /// <summary>Endpoint or local folder: an <c>endpoint</c> key makes it an endpoint.</summary>
    public required ProviderKind Kind { get; init; }

    /// <summary>The model: the name the endpoint serves, or a local Hugging Face folder.</summary>
    public required string Model { get; init; }

    /// <summary>The endpoint's base URL including <c>/v1</c> (the client appends <c>/chat/completions</c>); null for a local folder.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Name of the environment variable holding the API key; null sends no real key (local servers need none).</summary>
    public string? ApiKeyEnv { get; init; }

    /// <summary>Seconds one attempt may take, first byte to last, before it is abandoned and retried.</summary>
    public double TimeoutSeconds { get; init; } = 60;

    /// <summary>Requests in flight at once to this endpoint (a semaphore around each attempt).</summary>
    public int MaxConcurrency { get; init; } = 8;

    /// <summary>Retries after the first attempt on 429, 5xx, timeouts, connection errors and invalid answers.</summary>
    public int MaxRetries { get; init; } = 6;

    /// <summary>Requests started per minute (a token bucket); 0 = unlimited.</summary>
    public int RequestsPerMinute { get; init; }

    /// <summary>Prompt + completion tokens per minute (a token bucket charged with an estimate, corrected by reported usage); 0 = unlimited.</summary>
    public int TokensPerMinute { get; init; }

    /// <summary>A PEFT LoRA adapter folded into a local model's weights; null for none.</summary>
    public string? Adapter { get; init; }

    /// <summary>For a local folder: the most requests decoded together.</summary>
    public int MaxBatch { get; init; } = 16;

    /// <summary>The first retry's delay before jitter; later retries double it (exponential backoff). Not a recipe key: tests shorten it.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest backoff between two attempts (a Retry-After header may ask for longer, up to <see cref="MaxRetryAfter"/>).</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest Retry-After honoured; a server asking for more is waited on this long.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where the block came from, for errors: "recipe.yaml" (or "--set").</summary>
    public string Source { get; init; } = "recipe";

    /// <summary>The role as recipes spell it: "judge".</summary>
    public string RoleName => RoleNames.Of(Role);

    /// <summary>
    /// What the provider is, for fingerprints of sources that call it: "endpoint:URL#MODEL" or "local:FOLDER[+ADAPTER]".
    /// Limits, retries and the key are left out — they change how a label is fetched, not which label comes back.
    /// </summary>
    public string Identity => Kind == ProviderKind.Endpoint
        ? $"endpoint:{Endpoint!.AbsoluteUri.TrimEnd('/')}#{Model}"
        : $"local:{Model}{(Adapter is null ? "" : "+" + Adapter)}";

    /// <summary>Role, identity and limits; never a key (the record holds none), only the variable's name.</summary>
    public override string ToString() => Kind == ProviderKind.Endpoint
        ? string.Create(CultureInfo.InvariantCulture,
            $"{RoleName}: {Identity} (api_key_env {ApiKeyEnv ?? "none"}, timeout {TimeoutSeconds}s, concurrency {MaxConcurrency}, retries {MaxRetries}, rpm {RequestsPerMinute}, tpm {TokensPerMinute})")
        : $"{RoleName}: {Identity} (max_batch {MaxBatch})";
}

/// <summary>Role names as recipes spell them.</summary>
public static class RoleNames
{
    /// <summary>The lower-case recipe key of a role.</summary>
    public static string Of(ProviderRole role) => role.ToString().ToLowerInvariant();

    /// <summary>Every role, in recipe order.</summary>
    public static IReadOnlyList<ProviderRole> All { get; } = Enum.GetValues<ProviderRole>();
}
