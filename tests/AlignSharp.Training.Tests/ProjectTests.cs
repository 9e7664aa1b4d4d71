namespace AlignSharp.Training.Tests;

public class ProjectTests
{
    [Fact]
    public void Training_assembly_loads() => Assert.Equal("AlignSharp.Training", typeof(TrainingException).Assembly.GetName().Name);
}
