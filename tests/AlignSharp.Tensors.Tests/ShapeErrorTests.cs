using AlignSharp.Tensors;

namespace AlignSharp.Tensors.Tests;

/// <summary>Shape mismatches throw an error that names the op and both shapes.</summary>
public class ShapeErrorTests
{
    private static void AssertMessage(Action act, params string[] parts)
    {
        var e = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var p in parts) Assert.Contains(p, e.Message);
    }

    [Fact] public void Add() => AssertMessage(() => Ops.Add(Tensor.Zeros(2, 3), Tensor.Zeros(4)), "add", "[2, 3]", "[4]");
    [Fact] public void Mul() => AssertMessage(() => Ops.Mul(Tensor.Zeros(2, 3, 5), Tensor.Zeros(2, 4, 5)), "mul", "[2, 3, 5]", "[2, 4, 5]");
    [Fact] public void MatMul() => AssertMessage(() => Ops.MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)), "matmul", "[2, 3]", "[4, 5]");
    [Fact] public void Linear() => AssertMessage(() => Ops.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(5, 4)), "linear", "[2, 3]", "[5, 4]");
    [Fact] public void RmsNorm() => AssertMessage(() => Ops.RmsNorm(Tensor.Zeros(2, 8), Tensor.Zeros(7), 1e-5f), "rms_norm", "[7]", "[2, 8]");
    [Fact] public void Reshape() => AssertMessage(() => Tensor.Zeros(2, 3).Reshape(4, 2), "Reshape", "[2, 3]", "[4, 2]");
    [Fact] public void MaskedSum() => AssertMessage(() => Ops.MaskedSum(Tensor.Zeros(2, 3), Tensor.Zeros(2, 4)), "masked_sum", "[2, 3]", "[2, 4]");
    [Fact] public void Concat() => AssertMessage(() => Ops.Concat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1), "concat", "[2, 3]", "[3, 3]");

    [Fact]
    public void Attention_heads_must_divide() =>
        AssertMessage(() => Ops.ScaledDotProductAttention(Tensor.Zeros(1, 2, 5, 4), Tensor.Zeros(1, 2, 2, 4), Tensor.Zeros(1, 2, 2, 4)), "attention", "divide", "2 and 5");

    [Fact]
    public void Attention_kv_shape() =>
        AssertMessage(() => Ops.ScaledDotProductAttention(Tensor.Zeros(1, 2, 4, 4), Tensor.Zeros(1, 2, 2, 4), Tensor.Zeros(1, 3, 2, 4)), "attention", "[1, 2, 2, 4]", "[1, 3, 2, 4]");

    [Fact]
    public void Cross_entropy_label_out_of_range() =>
        AssertMessage(() => Ops.CrossEntropy(Tensor.Zeros(2, 5), [1, 7]), "cross_entropy", "label 7", "position 1");

    [Fact]
    public void Embedding_id_out_of_range() =>
        AssertMessage(() => Ops.Embedding(Tensor.Zeros(4, 2), [0, 9]), "embedding", "id 9", "[0, 4)");

    [Fact]
    public void Backward_needs_a_scalar()
    {
        var w = Tensor.Parameter(Tensor.Ones(3));
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Square(w).Backward());
        Assert.Contains("[3]", e.Message);
    }
}
