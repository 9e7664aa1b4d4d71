namespace AlignSharp.Models.Tests;

public class ProjectLoads
{
    [Fact]
    public void Models_assembly_loads() => Assert.Equal("AlignSharp.Models", typeof(AlignSharp.Models.Tokenizers.TokenizerException).Assembly.GetName().Name);
}
