namespace FaceId.Deploy.Tests;

/// <summary>
/// The Redis Cluster the redis-cluster overlay runs (deploy/k8s/overlays/redis-cluster/redis-cluster.yaml), read
/// from a rendering: its redis.conf, and the part of it a local cluster of redis-server processes can take.
/// </summary>
public static class RedisClusterOverlay
{
    public const string Directory = "deploy/k8s/overlays/redis-cluster";
    public const string StatefulSet = "redis-cluster";
    public const string ConfigMap = "redis-cluster-config";

    /// <summary>
    /// Directives that name the pod's own environment, not behaviour, and that <see cref="FaceId.TestKit.RedisCluster"/>
    /// sets per process itself: the port, the data directory and the nodes file (each local node has its own),
    /// cluster-enabled; cluster-node-timeout goes through its nodeTimeoutMs parameter. cluster-preferred-endpoint-type
    /// hostname needs the per-pod cluster-announce-hostname (a DNS name of the headless Service): without one, a node
    /// redirects clients to "?".
    /// </summary>
    private static readonly HashSet<string> PodOnly =
        ["port", "dir", "cluster-config-file", "cluster-enabled", "cluster-node-timeout", "cluster-preferred-endpoint-type"];

    /// <summary>The directives of the ConfigMap's redis.conf in file order ("save \"\"" gives ("save", "")).</summary>
    public static IReadOnlyList<(string Name, string Value)> Settings(Rendering r)
    {
        var text = r.Single("ConfigMap", ConfigMap).Node.Map("data").GetValueOrDefault("redis.conf") as string
            ?? throw new Xunit.Sdk.XunitException($"ConfigMap/{ConfigMap} has no redis.conf");
        return text.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split((char[])[' ', '\t'], 2, StringSplitOptions.TrimEntries))
            .Select(p => (p[0], p.Length > 1 ? p[1].Trim('"') : ""))
            .ToList();
    }

    public static string Setting(Rendering r, string name) =>
        Settings(r).Where(s => s.Name == name).Select(s => s.Value).LastOrDefault() ?? throw new Xunit.Sdk.XunitException($"redis.conf of ConfigMap/{ConfigMap} sets no {name}");

    /// <summary>The overlay's settings a local node can run: redis-server arguments ("--appendfsync", "always", ...).</summary>
    public static IReadOnlyList<(string Name, string Value)> LocalSettings(Rendering r) =>
        Settings(r).Where(s => !PodOnly.Contains(s.Name)).ToList();

    public static string[] LocalArgs(Rendering r) => [.. LocalSettings(r).SelectMany(s => new[] { $"--{s.Name}", s.Value })];

    public static int NodeTimeoutMs(Rendering r) => int.Parse(Setting(r, "cluster-node-timeout"), System.Globalization.CultureInfo.InvariantCulture);
}
