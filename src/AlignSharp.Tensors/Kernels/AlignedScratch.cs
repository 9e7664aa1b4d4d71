using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AlignSharp.Tensors.Kernels;

/// <summary>
/// Numbered scratch buffers for one thread's use by one kernel: 64-byte aligned, grown on demand and
/// reused across calls, so a warm kernel allocates nothing. They are pinned managed arrays rather than
/// native memory, so the GC reclaims them with their thread and no finalizer is needed.
/// Each kernel keeps its own [ThreadStatic] instance, so kernels never hand each other a slot in use.
/// </summary>
internal sealed unsafe class AlignedScratch(int slots)
{
    private readonly float[]?[] _arrays = new float[]?[slots];

    /// <summary>At least <paramref name="floats"/> floats at a 64-byte aligned address; contents undefined.</summary>
    public float* Get(int slot, nint floats)
    {
        ref float[]? array = ref _arrays[slot];
        if (array is null || array.Length < floats + 16)
            array = GC.AllocateUninitializedArray<float>((int)floats + 16, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (float*)(((nint)p + 63) & ~(nint)63);
    }

    /// <summary>A plain array of at least <paramref name="floats"/> floats (for span-based code); contents undefined.</summary>
    public float[] Array(int slot, int floats)
    {
        ref float[]? array = ref _arrays[slot];
        if (array is null || array.Length < floats) array = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        return array;
    }
}
