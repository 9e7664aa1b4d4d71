using AlignSharp.Tensors;

namespace AlignSharp.Training.Optim;

/// <summary>Clipping by global norm (torch.nn.utils.clip_grad_norm_): all gradients scaled by max/‖g‖ when ‖g‖ exceeds max.</summary>
public static class GradientClipping
{
    /// <summary>Returns the global norm before clipping (summed in double, in parameter order: deterministic).</summary>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        var grads = parameters.Select(p => p.Grad).Where(g => g is not null).Cast<Tensor>().ToList();
        double total = 0;
        foreach (var g in grads)
        {
            var s = g.Span;
            double sum = 0;
            for (int i = 0; i < s.Length; i++) sum += (double)s[i] * s[i];
            total += sum;
        }
        double norm = Math.Sqrt(total);
        if (maxNorm > 0 && norm > maxNorm)
        {
            float scale = (float)(maxNorm / (norm + 1e-6));
            foreach (var g in grads) System.Numerics.Tensors.TensorPrimitives.Multiply(g.Span, scale, g.Span);
        }
        return norm;
    }
}
