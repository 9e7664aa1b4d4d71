using System.Text.Json;

namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// The parsed and validated JSON header of a safetensors file. Enforces the format's invariants
/// (huggingface/safetensors <c>Metadata::validate</c>): known dtypes, byte lengths that match the shapes,
/// and a data section covered exactly once, in order, with no overlaps, gaps or trailing bytes.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The largest header the reference implementation accepts.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public required OrderedDictionary<string, SafetensorInfo> Tensors { get; init; }
    public required Dictionary<string, string> Metadata { get; init; }

    /// <param name="json">The header bytes (UTF-8 JSON, possibly padded with trailing spaces).</param>
    /// <param name="dataLength">Bytes in the data section that follows the header.</param>
    /// <param name="file">File name used to prefix every error.</param>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string file)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new SafetensorsException($"{file}: header is not valid UTF-8 (corrupted, or not a safetensors file)");
        JsonDocument document;
        try { document = JsonDocument.Parse(json.ToArray()); }
        catch (JsonException e) { throw new SafetensorsException($"{file}: header is not valid JSON ({e.Message})"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsException($"{file}: header must be a JSON object of tensors, got {root.ValueKind}");

            var tensors = new OrderedDictionary<string, SafetensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (sawMetadata) throw new SafetensorsException($"{file}: '__metadata__' appears twice in the header");
                    sawMetadata = true;
                    ReadMetadata(property.Value, metadata, file);
                    continue;
                }
                if (tensors.ContainsKey(property.Name))
                    throw new SafetensorsException($"{file}: tensor '{property.Name}' appears twice in the header");
                var info = ReadEntry(property.Name, property.Value, file);
                if (info.End > dataLength)
                    throw new SafetensorsException(
                        $"{file}: tensor '{info.Name}' declares bytes [{info.Begin}, {info.End}) but the data section is {dataLength} bytes (truncated or corrupted file)");
                tensors.Add(info.Name, info);
            }
            CheckCoverage(tensors.Values, dataLength, file);
            return new SafetensorsHeader { Tensors = tensors, Metadata = metadata };
        }
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string file)
    {
        if (element.ValueKind == JsonValueKind.Null) return;
        if (element.ValueKind != JsonValueKind.Object)
            throw new SafetensorsException($"{file}: '__metadata__' must be an object of strings, got {element.ValueKind}");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsException($"{file}: '__metadata__.{entry.Name}' must be a string, got {entry.Value.ValueKind}");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafetensorInfo ReadEntry(string name, JsonElement entry, string file)
    {
        string where = $"{file}: tensor '{name}'";
        if (entry.ValueKind != JsonValueKind.Object)
            throw new SafetensorsException($"{where} must be an object with dtype, shape and data_offsets, got {entry.ValueKind}");

        if (!entry.TryGetProperty("dtype", out var dtypeElement))
            throw new SafetensorsException($"{where} has no 'dtype'");
        if (dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafetensorsException($"{where}: 'dtype' must be a string, got {dtypeElement.ValueKind}");
        string dtypeName = dtypeElement.GetString()!;
        if (!DTypes.TryParse(dtypeName, out var dtype))
            throw new SafetensorsException($"{where} has unknown dtype '{dtypeName}' (known: {DTypes.KnownNames})");

        if (!entry.TryGetProperty("shape", out var shapeElement))
            throw new SafetensorsException($"{where} has no 'shape'");
        if (shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafetensorsException($"{where}: 'shape' must be an array of integers, got {shapeElement.ValueKind}");
        var shape = new int[shapeElement.GetArrayLength()];
        int axis = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim))
                throw new SafetensorsException($"{where}: shape[{axis}] must be an integer, got {d.GetRawText()}");
            if (dim < 0)
                throw new SafetensorsException($"{where}: shape[{axis}] is negative ({dim})");
            if (dim > int.MaxValue)
                throw new SafetensorsException($"{where}: shape[{axis}] = {dim} exceeds {int.MaxValue}");
            shape[axis++] = (int)dim;
        }

        if (!entry.TryGetProperty("data_offsets", out var offsetsElement))
            throw new SafetensorsException($"{where} has no 'data_offsets'");
        if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2
            || !TryGetOffset(offsetsElement[0], out long begin) || !TryGetOffset(offsetsElement[1], out long end))
            throw new SafetensorsException($"{where}: 'data_offsets' must be [begin, end] with non-negative integers, got {offsetsElement.GetRawText()}");
        if (end < begin)
            throw new SafetensorsException($"{where}: data_offsets [{begin}, {end}) end before they begin");

        var info = new SafetensorInfo(name, dtype, shape, begin, end);
        long expectedBytes;
        try { expectedBytes = checked(info.ElementCount * dtype.SizeOf()); }
        catch (OverflowException) { throw new SafetensorsException($"{where}: shape {info.ShapeText} has too many elements"); }
        if (expectedBytes != info.ByteLength)
            throw new SafetensorsException(
                $"{where}: shape {info.ShapeText} of {dtype.Name()} needs {expectedBytes} bytes but data_offsets [{begin}, {end}) hold {info.ByteLength}");
        return info;
    }

    private static bool TryGetOffset(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value >= 0;
    }

    /// <summary>Sorted by offset, each tensor must start where the previous one ended and the last must end at the end of the data.</summary>
    private static void CheckCoverage(IEnumerable<SafetensorInfo> tensors, long dataLength, string file)
    {
        long covered = 0;
        SafetensorInfo? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < covered)
                throw new SafetensorsException(
                    $"{file}: tensors '{previous!.Name}' [{previous.Begin}, {previous.End}) and '{t.Name}' [{t.Begin}, {t.End}) overlap");
            if (t.Begin > covered)
                throw new SafetensorsException(
                    $"{file}: bytes [{covered}, {t.Begin}) of the data section belong to no tensor (gap before '{t.Name}'; the format requires the data to be fully covered)");
            covered = t.End;
            previous = t;
        }
        if (covered != dataLength)
            throw new SafetensorsException(
                $"{file}: the data section is {dataLength} bytes but the tensors cover only [0, {covered}) ({dataLength - covered} trailing bytes belong to no tensor)");
    }
}
