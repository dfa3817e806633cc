using System.Text;
using System.Text.RegularExpressions;

namespace FaceId.Deploy.Tests;

/// <summary>One environment variable of a container and where it comes from.</summary>
public sealed record EnvVar(string Name, string Value, string Origin);

/// <summary>
/// The environment Kubernetes gives the container of a rendered Deployment: the image's ENV
/// (deploy/image/Containerfile, final stage), then <c>envFrom</c> (ConfigMaps and Secrets, in
/// order), then <c>env</c> (literal values, <c>configMapKeyRef</c>, <c>secretKeyRef</c>), later
/// entries winning as in a pod. ConfigMaps and Secrets are read from the rendering; a Secret the
/// rendering does not contain is one created out of band (faceid-auth): its keys get a value from
/// <c>external(secret, key)</c>. A reference that the pod could not resolve (missing ConfigMap,
/// missing key of a rendered Secret) throws with the reason.
/// </summary>
public static partial class ContainerEnvironment
{
    public static IReadOnlyList<EnvVar> Resolve(Rendering r, K8sObject deployment, Func<string, string, string> external)
    {
        var where = $"{r.Directory}: Deployment/{deployment.Name}";
        var container = deployment.Node.Maps("spec.template.spec.containers").Single();
        var env = new Dictionary<string, EnvVar>(StringComparer.Ordinal);
        void Set(string name, string value, string origin) => env[name] = new EnvVar(name, value, origin);

        // The image of this Deployment is built with --build-arg SERVICE=<its folder under services/>.
        var folder = Repo.Deployables.FirstOrDefault(s => s.AppId == deployment.Name)?.Folder ?? "";
        foreach (var (name, value) in ImageEnv()) Set(name, value.Replace("${SERVICE}", folder), "image ENV (deploy/image/Containerfile)");

        foreach (var from in container.Maps("envFrom"))
        {
            var prefix = from.Str("prefix") ?? "";
            if (from.Str("configMapRef.name") is { } cm)
            {
                var data = ConfigMapData(r, cm, where, optional: from.Str("configMapRef.optional") == "true");
                foreach (var (key, value) in data) Set(prefix + key, value, $"ConfigMap {cm} (envFrom)");
            }
            else if (from.Str("secretRef.name") is { } secret)
            {
                var data = SecretData(r, secret) ?? throw new InvalidDataException($"{where}: envFrom names the Secret {secret}, which the rendering lacks; envFrom cannot take a Secret created out of band key by key");
                foreach (var (key, value) in data) Set(prefix + key, value, $"Secret {secret} (envFrom)");
            }
        }

        foreach (var e in container.Maps("env"))
        {
            var name = e.Str("name") ?? throw new InvalidDataException($"{where}: an env entry without name");
            if (e.At("valueFrom") is null)
            {
                Set(name, e.Str("value") ?? "", "env value");
            }
            else if (e.Str("valueFrom.configMapKeyRef.name") is { } cm)
            {
                var key = e.Str("valueFrom.configMapKeyRef.key")!;
                var data = ConfigMapData(r, cm, where, optional: e.Str("valueFrom.configMapKeyRef.optional") == "true");
                if (data.TryGetValue(key, out var value)) Set(name, value, $"ConfigMap {cm}/{key}");
                else if (e.Str("valueFrom.configMapKeyRef.optional") != "true") throw new InvalidDataException($"{where}: env {name} reads key {key} of ConfigMap {cm}, which has no such key");
            }
            else if (e.Str("valueFrom.secretKeyRef.name") is { } secret)
            {
                var key = e.Str("valueFrom.secretKeyRef.key")!;
                if (SecretData(r, secret) is { } data)
                {
                    if (data.TryGetValue(key, out var value)) Set(name, value, $"Secret {secret}/{key}");
                    else if (e.Str("valueFrom.secretKeyRef.optional") != "true") throw new InvalidDataException($"{where}: env {name} reads key {key} of Secret {secret}, which has no such key");
                }
                else
                {
                    Set(name, external(secret, key), $"Secret {secret}/{key} (created out of band; a test value here)");
                }
            }
            else
            {
                throw new InvalidDataException($"{where}: env {name} has a valueFrom this rehearsal does not resolve ({string.Join(", ", e.Map("valueFrom").Keys)})");
            }
        }
        return env.Values.ToList();
    }

    /// <summary>The Secrets a rendering's Deployments read that the rendering does not contain (created out of band).</summary>
    public static IEnumerable<(string Secret, string Key)> ExternalSecretKeys(Rendering r) =>
        r.OfKind("Deployment")
            .SelectMany(d => d.Node.Maps("spec.template.spec.containers").SelectMany(c => c.Maps("env")))
            .Where(e => e.Str("valueFrom.secretKeyRef.name") is { } s && r.Find("Secret", s) is null)
            .Select(e => (e.Str("valueFrom.secretKeyRef.name")!, e.Str("valueFrom.secretKeyRef.key")!))
            .Distinct();

    /// <summary>ENV of the final stage of deploy/image/Containerfile (the runtime image), the build argument left as ${SERVICE}.</summary>
    public static IReadOnlyList<(string Name, string Value)> ImageEnv()
    {
        var text = Repo.Read("deploy/image/Containerfile").Replace("\\\n", " ");
        var lines = text.Split('\n');
        var lastFrom = Array.FindLastIndex(lines, l => l.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase));
        return lines.Skip(lastFrom + 1)
            .Where(l => l.StartsWith("ENV ", StringComparison.Ordinal))
            .SelectMany(l => EnvPair().Matches(l["ENV ".Length..]).Select(m => (m.Groups[1].Value, m.Groups[2].Value.Trim('"'))))
            .ToList();
    }

    private static Dictionary<string, string> ConfigMapData(Rendering r, string name, string where, bool optional)
    {
        if (r.Find("ConfigMap", name) is { } cm) return cm.Node.Map("data").ToDictionary(kv => kv.Key, kv => kv.Value as string ?? "");
        if (optional) return [];
        throw new InvalidDataException($"{where}: reads the ConfigMap {name}, which the rendering lacks");
    }

    private static Dictionary<string, string>? SecretData(Rendering r, string name)
    {
        if (r.Find("Secret", name) is not { } secret) return null;
        var data = secret.Node.Map("data").ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetString(Convert.FromBase64String(kv.Value as string ?? "")));
        foreach (var (key, value) in secret.Node.Map("stringData")) data[key] = value as string ?? "";
        return data;
    }

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(""[^""]*""|\S*)")]
    private static partial Regex EnvPair();
}
