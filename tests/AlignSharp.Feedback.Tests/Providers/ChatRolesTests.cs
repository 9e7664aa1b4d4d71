using AlignSharp.Feedback.Providers;
using YamlDotNet.RepresentationModel;

namespace AlignSharp.Feedback.Tests.Providers;

public class ChatRolesTests
{
    static IReadOnlyDictionary<string, object?> Block(params (string Key, object? Value)[] entries) => entries.ToDictionary(e => e.Key, e => e.Value);

    static string Error(ProviderRole role, IReadOnlyDictionary<string, object?> block) =>
        Assert.Throws<FeedbackException>(() => ChatRoles.Parse(role, block, "recipe.yaml")).Message;

    [Fact]
    public void An_endpoint_block_is_parsed_with_defaults_and_numbers_as_numbers_or_strings()
    {
        var judge = ChatRoles.Parse(ProviderRole.Judge, Block(("endpoint", "http://127.0.0.1:8000/v1"), ("model", "qwen"), ("api_key_env", "JUDGE_KEY"),
            ("timeout_seconds", "2.5"), ("max_concurrency", 32), ("requests_per_minute", 600L)), "recipe.yaml");
        Assert.Equal(ProviderKind.Endpoint, judge.Kind);
        Assert.Equal(new Uri("http://127.0.0.1:8000/v1"), judge.Endpoint);
        Assert.Equal(("qwen", "JUDGE_KEY", 2.5, 32, 6, 600, 0), (judge.Model, judge.ApiKeyEnv, judge.TimeoutSeconds, judge.MaxConcurrency, judge.MaxRetries, judge.RequestsPerMinute, judge.TokensPerMinute));
        Assert.Equal("endpoint:http://127.0.0.1:8000/v1#qwen", judge.Identity);
    }

    [Fact]
    public void A_local_block_is_a_folder_with_an_optional_adapter()
    {
        var teacher = ChatRoles.Parse(ProviderRole.Teacher, Block(("model", "models/base"), ("adapter", "runs/a/adapter"), ("max_batch", "4")), "recipe.yaml");
        Assert.Equal((ProviderKind.LocalFolder, "models/base", "runs/a/adapter", 4), (teacher.Kind, teacher.Model, teacher.Adapter, teacher.MaxBatch));
        Assert.Equal("local:models/base+runs/a/adapter", teacher.Identity);
    }

    [Fact]
    public void A_recipe_yields_exactly_the_roles_it_has_blocks_for()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader("""
            method: dpo
            judge: {endpoint: "http://localhost:9000/v1", model: j, max_retries: 2}
            attacker:
              model: models/red
            judge.timeout_seconds: 5
            """));
        var roles = ChatRoles.Read((YamlMappingNode)yaml.Documents[0].RootNode, "recipe.yaml");
        Assert.Equal([ProviderRole.Judge, ProviderRole.Attacker], roles.All.Select(r => r.Role));
        Assert.Equal((2, 5.0), (roles[ProviderRole.Judge]!.MaxRetries, roles[ProviderRole.Judge]!.TimeoutSeconds));
        Assert.Equal(ProviderKind.LocalFolder, roles[ProviderRole.Attacker]!.Kind);
        Assert.Null(roles[ProviderRole.Policy]);
    }

    [Fact]
    public void Dotted_keys_override_a_block_or_make_one()
    {
        var recipe = new Dictionary<string, object?>
        {
            ["judge"] = Block(("endpoint", "http://localhost:9000/v1"), ("model", "j")),
            ["judge.model"] = "j2",          // --set judge.model=j2
            ["teacher.model"] = "models/t",  // --set teacher.model=models/t
            ["seed"] = "1",
        };
        var roles = ChatRoles.Read(recipe, "recipe.yaml");
        Assert.Equal("j2", roles[ProviderRole.Judge]!.Model);
        Assert.Equal(("models/t", ProviderKind.LocalFolder), (roles[ProviderRole.Teacher]!.Model, roles[ProviderRole.Teacher]!.Kind));
        Assert.Equal("recipe.yaml: judge.max_retry: unknown key; known: endpoint, model, api_key_env, timeout_seconds, max_concurrency, max_retries, requests_per_minute, tokens_per_minute",
            Assert.Throws<FeedbackException>(() => ChatRoles.Read(new Dictionary<string, object?>(recipe) { ["judge.max_retry"] = "2" }, "recipe.yaml")).Message);
    }

    [Fact]
    public void Bad_blocks_are_one_line_naming_the_role_and_key()
    {
        Assert.Equal("recipe.yaml: judge.temperature: unknown key; known: endpoint, model, api_key_env, timeout_seconds, max_concurrency, max_retries, requests_per_minute, tokens_per_minute",
            Error(ProviderRole.Judge, Block(("endpoint", "http://h/v1"), ("model", "m"), ("temperature", 0.5))));
        Assert.StartsWith("recipe.yaml: judge.max_retries: applies to endpoints only (add judge.endpoint)", Error(ProviderRole.Judge, Block(("model", "dir"), ("max_retries", 2))));
        Assert.StartsWith("recipe.yaml: policy.adapter: applies to local folders only", Error(ProviderRole.Policy, Block(("endpoint", "http://h/v1"), ("model", "m"), ("adapter", "a"))));
        Assert.StartsWith("recipe.yaml: judge: model is required", Error(ProviderRole.Judge, Block(("endpoint", "http://h/v1"))));
        Assert.Equal("recipe.yaml: judge.endpoint: must be an http:// or https:// URL such as http://127.0.0.1:8000/v1 (got 'localhost:8000')",
            Error(ProviderRole.Judge, Block(("endpoint", "localhost:8000"), ("model", "m"))));
        Assert.Equal("recipe.yaml: judge.max_concurrency: must be at least 1 (got 0)", Error(ProviderRole.Judge, Block(("endpoint", "http://h/v1"), ("model", "m"), ("max_concurrency", 0))));
        Assert.Equal("recipe.yaml: judge.timeout_seconds: must be a number (got 'soon')", Error(ProviderRole.Judge, Block(("endpoint", "http://h/v1"), ("model", "m"), ("timeout_seconds", "soon"))));
        Assert.Equal("recipe.yaml: judge.max_retries: must be a whole number (got 1.5)", Error(ProviderRole.Judge, Block(("endpoint", "http://h/v1"), ("model", "m"), ("max_retries", 1.5))));
        Assert.StartsWith("recipe.yaml: judge.api_key_env: must be the NAME of an environment variable", Error(ProviderRole.Judge, Block(("endpoint", "http://h/v1"), ("model", "m"), ("api_key_env", "sk-abc123-xyz"))));
        Assert.StartsWith("recipe.yaml: teacher: expected a mapping", Assert.Throws<FeedbackException>(() => ChatRoles.Parse(ProviderRole.Teacher, "models/x", "recipe.yaml")).Message);
    }

    [Fact]
    public void A_missing_key_variable_is_named_at_client_creation_and_the_key_appears_nowhere()
    {
        string variable = "ALIGNSHARP_TEST_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var judge = ChatRoles.Parse(ProviderRole.Judge, Block(("endpoint", "http://127.0.0.1:9/v1"), ("model", "m"), ("api_key_env", variable)), "recipe.yaml");
        Assert.Equal($"recipe.yaml: judge.api_key_env: environment variable {variable} is not set; export it or remove the key",
            Assert.Throws<FeedbackException>(() => ChatProviders.Create(judge)).Message);

        Environment.SetEnvironmentVariable(variable, "sk-secret-1234");
        try
        {
            using var client = ChatProviders.Create(judge);
            Assert.DoesNotContain("sk-secret", judge.ToString());
            Assert.DoesNotContain("sk-secret", judge.Identity);
            Assert.Contains(variable, judge.ToString());
        }
        finally { Environment.SetEnvironmentVariable(variable, null); }
    }

    [Fact]
    public void A_local_folder_that_does_not_exist_is_named()
    {
        var policy = ChatRoles.Parse(ProviderRole.Policy, Block(("model", "no/such/folder")), "recipe.yaml");
        Assert.StartsWith("recipe.yaml: policy.model: folder no/such/folder not found", Assert.Throws<FeedbackException>(() => ChatProviders.Create(policy)).Message);
    }

    [Theory]
    [InlineData("120", 120.0)]
    [InlineData("1.5", 1.5)]
    [InlineData("Wed, 02 Dec 2026 03:00:10 GMT", 10.0)]
    [InlineData("Wed, 02 Dec 2026 02:59:00 GMT", 0.0)]
    public void Retry_after_reads_seconds_and_http_dates(string header, double seconds)
    {
        var now = new DateTimeOffset(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.Parse(header, now));
        Assert.Null(RetryAfter.Parse("soon", now));
    }
}
