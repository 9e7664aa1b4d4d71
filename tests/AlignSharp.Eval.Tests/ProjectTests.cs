namespace AlignSharp.Eval.Tests;

public class ProjectTests
{
    [Fact]
    public void Eval_assembly_loads() => Assert.Equal("AlignSharp.Eval", typeof(EvalException).Assembly.GetName().Name);
}
