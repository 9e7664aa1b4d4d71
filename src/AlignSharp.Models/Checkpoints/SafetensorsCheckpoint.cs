using System.Text.Json;
using System.Text.RegularExpressions;

namespace AlignSharp.Models.Checkpoints;

/// <summary>
/// The weights of a Hugging Face model folder: one <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {name: file}}</c>).
/// Shards are opened (memory-mapped) on first use and kept open until disposal. Thread-safe.
/// </summary>
public sealed partial class SafetensorsCheckpoint : IDisposable
{
    /// <summary>Name of an unsharded checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>Name of the index of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>transformers' default <c>max_shard_size="5GB"</c> (decimal gigabytes).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    private readonly string _folder;
    private readonly string _source; // file name errors are reported against: the index, or model.safetensors
    private readonly OrderedDictionary<string, string> _shardOf; // tensor name → shard file name
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Folder the checkpoint was opened from.</summary>
    public string Folder => _folder;

    /// <summary>Tensor names: header order for one file, weight_map order for shards.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The index's <c>metadata</c> (e.g. <c>total_size</c>) for shards, or the file's <c>__metadata__</c>; values as JSON text when not strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Shard file names, in order of first appearance in the weight map.</summary>
    public IReadOnlyList<string> Files { get; }

    private SafetensorsCheckpoint(string folder, string source, OrderedDictionary<string, string> shardOf, IReadOnlyDictionary<string, string> metadata)
    {
        _folder = folder; _source = source; _shardOf = shardOf; Metadata = metadata;
        Names = shardOf.Keys.ToArray();
        Files = shardOf.Values.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Opens the weights in <paramref name="folder"/>: <c>model.safetensors</c> when present (as transformers prefers it),
    /// otherwise <c>model.safetensors.index.json</c>. Checks now that every shard the index names exists.
    /// </summary>
    public static SafetensorsCheckpoint Open(string folder)
    {
        string single = Path.Combine(folder, SingleFileName), index = Path.Combine(folder, IndexFileName);
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            var shardOf = new OrderedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in file.Tensors.Keys) shardOf.Add(name, SingleFileName);
            var checkpoint = new SafetensorsCheckpoint(folder, SingleFileName, shardOf, file.Metadata);
            checkpoint._open.Add(SingleFileName, file);
            return checkpoint;
        }
        if (File.Exists(index)) return OpenIndex(folder, index);
        throw new SafetensorsException($"{folder}: neither {SingleFileName} nor {IndexFileName} exists (is this a Hugging Face model folder with safetensors weights?)");
    }

    private static SafetensorsCheckpoint OpenIndex(string folder, string indexPath)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllBytes(indexPath)); }
        catch (JsonException e) { throw new SafetensorsException($"{IndexFileName}: not valid JSON ({e.Message})"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsException($"{IndexFileName}: must be a JSON object with 'weight_map', got {root.ValueKind}");
            if (!root.TryGetProperty("weight_map", out var weightMap) || weightMap.ValueKind != JsonValueKind.Object)
                throw new SafetensorsException($"{IndexFileName}: 'weight_map' must be an object mapping tensor names to shard files");

            var shardOf = new OrderedDictionary<string, string>(StringComparer.Ordinal);
            var exists = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var entry in weightMap.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new SafetensorsException($"{IndexFileName}: weight_map['{entry.Name}'] must be a file name string, got {entry.Value.ValueKind}");
                string shard = entry.Value.GetString()!;
                if (shard.Length == 0 || shard != Path.GetFileName(shard))
                    throw new SafetensorsException($"{IndexFileName}: weight_map['{entry.Name}'] = '{shard}' must be a file name in the same folder");
                if (!exists.TryGetValue(shard, out bool present)) exists[shard] = present = File.Exists(Path.Combine(folder, shard));
                if (!present)
                    throw new SafetensorsException($"{IndexFileName}: weight_map['{entry.Name}'] points to '{shard}', which does not exist in {folder} (incomplete download?)");
                if (!shardOf.TryAdd(entry.Name, shard))
                    throw new SafetensorsException($"{IndexFileName}: weight_map lists '{entry.Name}' twice");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
                foreach (var m in meta.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
            return new SafetensorsCheckpoint(folder, IndexFileName, shardOf, metadata);
        }
    }

    /// <summary>True when the checkpoint holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => _shardOf.ContainsKey(name);

    /// <summary>Dtype, shape and location of <paramref name="name"/> (opens its shard).</summary>
    public SafetensorInfo Info(string name) => FileOf(name).Info(name);

    /// <summary>Reads <paramref name="name"/> as float32 into <paramref name="destination"/> (length = element count).</summary>
    public void ReadFloat32(string name, Span<float> destination) => FileOf(name).ReadFloat32(name, destination);

    /// <summary>Reads <paramref name="name"/> as float32 into a new array.</summary>
    public float[] ReadFloat32(string name) => FileOf(name).ReadFloat32(name);

    private SafetensorsFile FileOf(string name)
    {
        if (!_shardOf.TryGetValue(name, out var shard))
            throw new SafetensorsException($"{_source}: no tensor named '{name}' in {_folder} ({_shardOf.Count} tensors)");
        SafetensorsFile file;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_open.TryGetValue(shard, out file!))
                _open.Add(shard, file = SafetensorsFile.Open(Path.Combine(_folder, shard)));
        }
        if (!file.Contains(name))
            throw new SafetensorsException($"{_source}: weight_map['{name}'] points to '{shard}', but that file has no tensor '{name}'");
        return file;
    }

    /// <summary>Unmaps every open shard.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var file in _open.Values) file.Dispose();
            _open.Clear();
        }
    }

    /// <summary>
    /// Saves <paramref name="tensors"/> into <paramref name="folder"/> the way transformers' <c>save_pretrained</c> lays them out:
    /// one <c>model.safetensors</c> when everything fits in <paramref name="maxShardBytes"/>, otherwise shards
    /// <c>model-00001-of-00003.safetensors</c> ... filled greedily in the given order plus <c>model.safetensors.index.json</c>
    /// with <c>metadata.total_size</c>. Each file is replaced atomically; weight files from an earlier save that the new
    /// layout does not use are deleted afterwards. <paramref name="metadata"/> goes into every file's <c>__metadata__</c>.
    /// Lazy tensors may read from a checkpoint open on the same folder on Linux/macOS (a rename leaves the old mapping intact);
    /// Windows refuses to replace a mapped file, so save elsewhere there.
    /// </summary>
    public static void Save(string folder, IEnumerable<TensorToWrite> tensors, long maxShardBytes = DefaultMaxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        Directory.CreateDirectory(folder);
        var shards = Shard(tensors.ToList(), maxShardBytes);
        var written = new HashSet<string>(StringComparer.Ordinal);
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(folder, SingleFileName), shards[0], metadata);
            written.Add(SingleFileName);
        }
        else
        {
            var weightMap = new List<(string Name, string File)>();
            for (int i = 0; i < shards.Count; i++)
            {
                string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                SafetensorsWriter.Write(Path.Combine(folder, file), shards[i], metadata);
                written.Add(file);
                weightMap.AddRange(shards[i].Select(t => (t.Name, file)));
            }
            WriteIndex(Path.Combine(folder, IndexFileName), weightMap, shards.Sum(s => s.Sum(t => t.ByteLength)));
            written.Add(IndexFileName);
        }
        foreach (var path in Directory.EnumerateFiles(folder))
        {
            string name = Path.GetFileName(path);
            if (!written.Contains(name) && WeightFileName().IsMatch(name)) File.Delete(path);
        }
    }

    /// <summary>Saves every tensor as <paramref name="dtype"/>, whatever each one asked for.</summary>
    public static void Save(string folder, IEnumerable<TensorToWrite> tensors, DType dtype, long maxShardBytes = DefaultMaxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(folder, tensors.Select(t => t with { DType = dtype }), maxShardBytes, metadata);

    /// <summary>Greedy split in order: a new shard starts when the next tensor would push the current one past the limit (transformers' rule; a single oversized tensor gets a shard of its own).</summary>
    private static List<List<TensorToWrite>> Shard(List<TensorToWrite> tensors, long maxShardBytes)
    {
        var shards = new List<List<TensorToWrite>> { new() };
        long current = 0;
        foreach (var t in tensors)
        {
            if (current + t.ByteLength > maxShardBytes && shards[^1].Count > 0)
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(t);
            current += t.ByteLength;
        }
        return shards;
    }

    private static void WriteIndex(string path, List<(string Name, string File)> weightMap, long totalSize)
    {
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap) json.WriteString(name, file);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    /// <summary>Files a previous <see cref="Save(string, IEnumerable{TensorToWrite}, long, IReadOnlyDictionary{string, string}?)"/> may have left: the single file, the index, shards, and interrupted temp files.</summary>
    [GeneratedRegex(@"^(model\.safetensors|model\.safetensors\.index\.json|model-\d{5}-of-\d{5}\.safetensors)(\.[0-9a-f]{32}\.partial)?$")]
    private static partial Regex WeightFileName();
}
