namespace AlignSharp.Models.Tests;

/// <summary>
/// The bad-input tests build large inputs (100 000-deep nesting, runaway templates): they run alone, after the parallel
/// tests, so their allocations do not land in tests that measure the process's allocations (CheckpointTests).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BadInputCollection
{
    public const string Name = "bad input (runs alone)";
}
