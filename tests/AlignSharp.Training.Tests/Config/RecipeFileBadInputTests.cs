using AlignSharp.Training.Config;

namespace AlignSharp.Training.Tests.Config;

/// <summary>Malformed recipes: each is a TrainingException naming the file (crash classes found by tools/fuzz).</summary>
public class RecipeFileBadInputTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-recipebad-" + Guid.NewGuid().ToString("N"));
    public RecipeFileBadInputTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    TrainingException Rejects(string yaml)
    {
        string path = Path.Combine(_dir, "recipe.yaml");
        File.WriteAllText(path, yaml);
        var e = Assert.Throws<TrainingException>(() => RecipeFile.Read(path, []));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void List_as_a_key_is_an_error_not_an_invalid_cast() => Assert.Contains("keys must be plain names", Rejects("? [a, b]\n: c\n").Message);

    [Fact]
    public void Deep_flow_nesting_is_an_error_not_a_stack_overflow() =>
        Assert.Contains("nested more than", Rejects("a: " + new string('[', 100_000) + "1" + new string(']', 100_000) + "\n").Message);

    [Fact]
    public void Deep_block_nesting_is_an_error_not_a_stack_overflow() =>
        Assert.Contains("nested more than", Rejects(string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i) + "k:\n")) + new string(' ', 200) + "v\n").Message);

    [Fact]
    public void Tag_that_is_not_a_valid_uri_is_a_syntax_error_not_an_argument_exception() =>
        Assert.Contains("not valid YAML", Rejects("a: 1\n!!bi[1:]nary x: y\n").Message);

    [Fact]
    public void Unclosed_flow_list_before_more_keys_is_a_syntax_error() =>
        Assert.Contains("not valid YAML", Rejects("learning_rate: 0.001\nnum_train_epochs: [\nper_device_train_batch_size: 8\nmax_length: 256\n").Message);
}

/// <summary>Role blocks (judge: {endpoint: ..., model: ...}) read as dotted keys that --set can override.</summary>
public class RecipeFileBlockTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "alignsharp-recipeblock-" + Guid.NewGuid().ToString("N"));
    public RecipeFileBlockTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    string Write(string yaml) { string path = Path.Combine(_dir, "recipe.yaml"); File.WriteAllText(path, yaml); return path; }

    [Fact]
    public void A_block_becomes_dotted_keys_with_their_lines()
    {
        string path = Write("seed: 3\njudge:\n  endpoint: http://127.0.0.1:8000/v1\n  model: tiny\npolicy: {model: runs/x}\n");
        var values = RecipeFile.Read(path, ["judge.model=big"]);
        Assert.Equal("3", values["seed"].Value);
        Assert.Equal(("http://127.0.0.1:8000/v1", $"{path}:3"), values["judge.endpoint"]);
        Assert.Equal(("big", "--set judge.model"), values["judge.model"]);
        Assert.Equal("runs/x", values["policy.model"].Value);
        Assert.False(values.ContainsKey("judge"));
    }

    [Fact]
    public void A_block_inside_a_block_is_refused_with_the_key()
    {
        string path = Write("judge:\n  endpoint:\n    url: x\n");
        var e = Assert.Throws<TrainingException>(() => RecipeFile.Read(path, []));
        Assert.Contains($"{path}:2: judge.endpoint: a block holds plain values", e.Message);
    }
}
