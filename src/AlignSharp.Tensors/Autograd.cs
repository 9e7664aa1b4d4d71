namespace AlignSharp.Tensors;

/// <summary>
/// Reverse-mode automatic differentiation. Each op records, on its output, the inputs it read and a
/// backward rule that adds the output's gradient contribution into each input's gradient.
/// <see cref="Backward"/> walks that graph in reverse topological order from a scalar.
/// </summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;

    /// <summary>False inside a <see cref="NoGrad"/> block on this thread.</summary>
    public static bool IsEnabled => _noGradDepth == 0;

    /// <summary>Disables recording on this thread until the returned handle is disposed (inference, reference models).</summary>
    public static NoGradScope NoGrad() => new(0);

    public readonly struct NoGradScope : IDisposable
    {
        internal NoGradScope(int _) => _noGradDepth++;
        public void Dispose() => _noGradDepth--;
    }

    internal static bool ShouldRecord(Tensor a) => _noGradDepth == 0 && a.RequiresGrad;
    internal static bool ShouldRecord(Tensor a, Tensor b) => _noGradDepth == 0 && (a.RequiresGrad || b.RequiresGrad);
    internal static bool ShouldRecord(Tensor a, Tensor b, Tensor? c) => _noGradDepth == 0 && (a.RequiresGrad || b.RequiresGrad || (c?.RequiresGrad ?? false));
    internal static bool ShouldRecord(ReadOnlySpan<Tensor> inputs)
    {
        if (_noGradDepth != 0) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>
    /// Backpropagates from scalar <paramref name="root"/> (seeded with gradient 1). Leaf gradients
    /// accumulate; intermediate gradients are released as soon as their rule has run, and the graph
    /// is freed (call Backward once per forward pass).
    /// </summary>
    public static void Backward(Tensor root)
    {
        if (root.Length != 1)
            throw new InvalidOperationException($"Backward needs a scalar (one element), got shape [{ShapeUtil.Format(root.ShapeArray)}]; reduce it with Sum() or Mean() first");
        if (!root.RequiresGrad)
            throw new InvalidOperationException("Backward: the tensor does not require grad (no parameter reaches it, or it was computed under Autograd.NoGrad())");

        var order = TopologicalOrder(root);
        root.GradSpan()[0] += 1f;
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (node.BackwardRule is { } rule && node.Grad is not null)
            {
                rule();
                node.ClearGraph();
                // The gradient of an intermediate is not needed once its rule has run.
                node.Grad.Dispose();
                node.Grad = null;
            }
            else node.ClearGraph();
        }
    }

    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node.Inputs;
            if (inputs is not null && next < inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(node);
        }
        return order;
    }
}
