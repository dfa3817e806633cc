using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace FaceId.Deploy.Tests;

/// <summary>
/// YAML as plain trees: mappings are <c>Dictionary&lt;string, object?&gt;</c> (insertion order kept),
/// sequences <c>List&lt;object?&gt;</c>, scalars strings (YAML's "8080" and 8080 alike), null for null.
/// </summary>
public static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Every document of a (multi-document) YAML text; a parse error throws with its position.</summary>
    public static List<object?> LoadAll(string text)
    {
        var documents = new List<object?>();
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
            documents.Add(Normalize(Deserializer.Deserialize<object?>(parser)));
        parser.Consume<StreamEnd>();
        return documents;
    }

    public static List<object?> LoadFile(string path)
    {
        try
        {
            return LoadAll(File.ReadAllText(path));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}: {e.Message} ({e.Start})", e);
        }
    }

    public static object? Normalize(object? node) => node switch
    {
        IDictionary<object, object?> map => map.ToDictionary(kv => Convert.ToString(kv.Key, CultureInfo.InvariantCulture)!, kv => Normalize(kv.Value)),
        IList<object?> list => list.Select(Normalize).ToList(),
        null => null,
        _ => Convert.ToString(node, CultureInfo.InvariantCulture),
    };

    /// <summary>The node at a dotted path ("spec.template.metadata.annotations"); null when any step is missing.</summary>
    public static object? At(this object? node, string path)
    {
        foreach (var step in path.Split('.'))
        {
            if (node is Dictionary<string, object?> map && map.TryGetValue(step, out var next)) node = next;
            else return null;
        }
        return node;
    }

    public static string? Str(this object? node, string path) => node.At(path) as string;

    public static Dictionary<string, object?> Map(this object? node, string path) =>
        node.At(path) as Dictionary<string, object?> ?? [];

    public static IEnumerable<Dictionary<string, object?>> Maps(this object? node, string path) =>
        (node.At(path) as List<object?> ?? []).OfType<Dictionary<string, object?>>();

    public static IEnumerable<string> Strings(this object? node, string path) =>
        (node.At(path) as List<object?> ?? []).OfType<string>();

    /// <summary>Deep copy (patches must not change the parsed originals).</summary>
    public static object? Clone(object? node) => node switch
    {
        Dictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => Clone(kv.Value)),
        List<object?> list => list.Select(Clone).ToList(),
        _ => node,
    };

    public static bool DeepEquals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (string x, string y) => x == y,
        (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
            x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && DeepEquals(kv.Value, v)),
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => DeepEquals(p.First, p.Second)),
        _ => false,
    };
}

/// <summary>A Kubernetes object of a rendering.</summary>
public sealed record K8sObject(Dictionary<string, object?> Node)
{
    public string ApiVersion => Node.Str("apiVersion") ?? "";
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";
    public string Version => ApiVersion.Contains('/') ? ApiVersion[(ApiVersion.IndexOf('/') + 1)..] : ApiVersion;
    public string Kind => Node.Str("kind") ?? "";
    public string Name => Node.Str("metadata.name") ?? "";

    public override string ToString() => $"{Kind}/{Name}";
}
