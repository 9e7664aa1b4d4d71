namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// An element type as named in a safetensors header (<c>"dtype"</c>). Every name the format
/// defines for whole-byte types is recognised so any header loads; <see cref="SafetensorsFile.ReadFloat32(string)"/>
/// converts all of them to float32 (integers and F64 by a plain cast, which may round).
/// </summary>
public enum DType
{
    /// <summary>IEEE 754 binary32.</summary>
    F32,
    /// <summary>IEEE 754 binary16 (torch.float16).</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of a binary32 (torch.bfloat16).</summary>
    BF16,
    /// <summary>IEEE 754 binary64.</summary>
    F64,
    /// <summary>Signed 64-bit integer (token ids, position ids).</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>One byte per element, 0 = false, anything else = true.</summary>
    BOOL,
    /// <summary>FP8 E4M3 "fn" variant (torch.float8_e4m3fn): bias 7, no infinities, S.1111.111 is NaN (arXiv:2209.05433).</summary>
    F8_E4M3,
    /// <summary>FP8 E5M2 (torch.float8_e5m2): the upper byte of a binary16, with infinities and NaN (arXiv:2209.05433).</summary>
    F8_E5M2,
    /// <summary>FP8 E8M0 scale (OCP MX): 2^(byte − 127), 0xFF is NaN.</summary>
    F8_E8M0,
}

/// <summary>Names and sizes of <see cref="DType"/> as the safetensors header spells them.</summary>
public static class DTypes
{
    private static readonly Dictionary<string, DType> ByName =
        Enum.GetValues<DType>().ToDictionary(d => d.ToString(), d => d, StringComparer.Ordinal);

    /// <summary>The header spelling (<c>"BF16"</c>, <c>"F8_E4M3"</c>, ...).</summary>
    public static string Name(this DType dtype) => dtype.ToString();

    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 or DType.U64 => 8,
        DType.F32 or DType.I32 or DType.U32 => 4,
        DType.F16 or DType.BF16 or DType.I16 or DType.U16 => 2,
        _ => 1,
    };

    /// <summary>True for the types <see cref="SafetensorsWriter"/> can write from float32 data.</summary>
    public static bool IsWritableFloat(this DType dtype) => dtype is DType.F32 or DType.F16 or DType.BF16;

    /// <summary>Parses a header dtype name (case-sensitive, as the format defines them).</summary>
    public static bool TryParse(string name, out DType dtype) => ByName.TryGetValue(name, out dtype);

    /// <summary>All names this reader understands, for error messages.</summary>
    public static string KnownNames => string.Join(", ", ByName.Keys);
}
