using System.Text.Json;

namespace AlignSharp.Models.Tokenizers;

/// <summary>Reads tokenizer.json values with errors that give the JSON path of the bad key.</summary>
internal static class TokenizerJson
{
    public static JsonElement? Optional(JsonElement e, string key) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static JsonElement Require(JsonElement e, string key, string path)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new TokenizerException($"{path}: expected an object, found {e.ValueKind}");
        if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            throw new TokenizerException($"{path}.{key}: missing");
        return v;
    }

    public static string RequireString(JsonElement e, string key, string path)
    {
        var v = Require(e, key, path);
        if (v.ValueKind != JsonValueKind.String) throw new TokenizerException($"{path}.{key}: expected a string, found {v.ValueKind}");
        return v.GetString()!;
    }

    public static JsonElement.ArrayEnumerator RequireArray(JsonElement e, string key, string path)
    {
        var v = Require(e, key, path);
        if (v.ValueKind != JsonValueKind.Array) throw new TokenizerException($"{path}.{key}: expected an array, found {v.ValueKind}");
        return v.EnumerateArray();
    }

    public static bool Bool(JsonElement e, string key, bool fallback, string path)
    {
        var v = Optional(e, key);
        if (v is null) return fallback;
        return v.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TokenizerException($"{path}.{key}: expected true or false, found {v.Value.ValueKind}"),
        };
    }

    /// <summary>A component of a Sequence (normalizers, pretokenizers, processors), which may not be null.</summary>
    public static T NotNull<T>(T? component, string path) where T : class =>
        component ?? throw new TokenizerException($"{path}: expected an object with a \"type\", found null");

    /// <summary>An array element that must be a 32-bit integer.</summary>
    public static int Int32Value(JsonElement v, string path) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new TokenizerException($"{path}: expected an integer, found {v.GetRawText()}");

    public static int Int(JsonElement e, string key, string path)
    {
        var v = Require(e, key, path);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i)) throw new TokenizerException($"{path}.{key}: expected an integer, found {v}");
        return i;
    }
}
