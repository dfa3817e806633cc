using System.Diagnostics;

namespace FaceId.Deploy.Tests;

/// <summary>A rendered kustomization: its objects and what rendered them.</summary>
public sealed record Rendering(string Directory, string Renderer, IReadOnlyList<K8sObject> Objects)
{
    public IEnumerable<K8sObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public K8sObject? Find(string kind, string name) => Objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);

    public K8sObject Single(string kind, string name) =>
        Find(kind, name) ?? throw new Xunit.Sdk.XunitException($"{Directory} ({Renderer}) renders no {kind}/{name}; it has {string.Join(", ", Objects)}.");
}

/// <summary>
/// Renders a kustomization with <c>kubectl kustomize</c> when kubectl is on the PATH (or named by
/// KUBECTL), else with <see cref="BuiltInKustomize"/>, which supports exactly what deploy/ uses.
/// </summary>
public static class Kustomize
{
    private static readonly Lazy<string?> KubectlPath = new(FindKubectl);

    public static string? Kubectl => KubectlPath.Value;

    public static Rendering Render(string relativeDirectory) =>
        Kubectl is { } kubectl ? WithKubectl(kubectl, relativeDirectory) : BuiltInKustomize.Render(relativeDirectory);

    public static Rendering WithKubectl(string kubectl, string relativeDirectory)
    {
        var start = new ProcessStartInfo(kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(Repo.PathOf(relativeDirectory));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {kubectl}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl kustomize {relativeDirectory} did not finish in 2 minutes.");
        }
        if (process.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"kubectl kustomize {relativeDirectory} failed (exit {process.ExitCode}): {stderr.Result}");
        var objects = Yaml.LoadAll(stdout.Result).OfType<Dictionary<string, object?>>().Select(n => new K8sObject(n)).ToList();
        return new Rendering(relativeDirectory, "kubectl kustomize", objects);
    }

    private static string? FindKubectl()
    {
        if (Environment.GetEnvironmentVariable("KUBECTL") is { Length: > 0 } named) return File.Exists(named) ? named : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "kubectl");
            if (!File.Exists(candidate)) continue;
            // A kubectl that cannot even print its client version is not usable here.
            try
            {
                using var p = Process.Start(new ProcessStartInfo(candidate, "version --client") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
                if (p is null) continue;
                p.StandardOutput.ReadToEnd();
                if (p.WaitForExit(TimeSpan.FromSeconds(30)) && p.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not executable
            }
        }
        return null;
    }
}

/// <summary>
/// A small kustomize for machines without kubectl: <c>resources</c> (files and directories),
/// <c>patches</c> (JSON 6902 op lists with a target, and strategic-merge documents including
/// <c>$patch: delete</c>; from <c>path</c> or inline <c>patch</c>), <c>labels</c> (metadata
/// labels) and <c>images</c>. Any other field fails the rendering, so it never silently renders
/// less than kubectl would.
/// </summary>
public static class BuiltInKustomize
{
    private static readonly HashSet<string> Supported = ["apiVersion", "kind", "resources", "patches", "labels", "images"];

    public static Rendering Render(string relativeDirectory) =>
        new(relativeDirectory, "built-in kustomize", Build(Repo.PathOf(relativeDirectory)).Select(n => new K8sObject(n)).ToList());

    /// <summary>The files a kustomization names (resources and patch paths), resolved; directories stand for their kustomization.yaml.</summary>
    public static IEnumerable<(string Entry, string Path)> References(string kustomizationFile)
    {
        var dir = Path.GetDirectoryName(kustomizationFile)!;
        var k = Yaml.LoadFile(kustomizationFile).Single();
        foreach (var r in k.Strings("resources")) yield return (r, Path.GetFullPath(Path.Combine(dir, r)));
        foreach (var p in k.Maps("patches"))
            if (p.Str("path") is { } path) yield return (path, Path.GetFullPath(Path.Combine(dir, path)));
    }

    private static List<Dictionary<string, object?>> Build(string directory)
    {
        var file = Path.Combine(directory, "kustomization.yaml");
        if (!File.Exists(file)) throw new FileNotFoundException($"{Repo.Relative(directory)} has no kustomization.yaml", file);
        var k = Yaml.LoadFile(file).Single() as Dictionary<string, object?> ?? throw new InvalidDataException($"{file} is not a mapping");
        if (k.Keys.FirstOrDefault(key => !Supported.Contains(key)) is { } unsupported)
            throw new NotSupportedException($"{Repo.Relative(file)}: the built-in kustomize does not support '{unsupported}'; install kubectl or extend it.");

        var objects = new List<Dictionary<string, object?>>();
        foreach (var entry in k.Strings("resources"))
        {
            var path = Path.GetFullPath(Path.Combine(directory, entry));
            if (Directory.Exists(path)) objects.AddRange(Build(path));
            else if (File.Exists(path)) objects.AddRange(Yaml.LoadFile(path).OfType<Dictionary<string, object?>>().Select(d => (Dictionary<string, object?>)Yaml.Clone(d)!));
            else throw new FileNotFoundException($"{Repo.Relative(file)}: resource '{entry}' does not exist", path);
        }

        foreach (var patch in k.Maps("patches"))
        {
            var text = patch.Str("patch") ?? (patch.Str("path") is { } p ? File.ReadAllText(Path.Combine(directory, p)) : throw new InvalidDataException($"{file}: a patch without path or patch"));
            var document = Yaml.LoadAll(text).Single();
            if (document is List<object?> operations) ApplyJson6902(objects, patch.Map("target"), operations, file);
            else if (document is Dictionary<string, object?> merge) ApplyStrategicMerge(objects, merge, file);
            else throw new InvalidDataException($"{file}: a patch that is neither an op list nor a document");
        }

        foreach (var label in k.Maps("labels"))
        {
            if (label.Str("includeSelectors") == "true" || label.Str("includeTemplates") == "true")
                throw new NotSupportedException($"{Repo.Relative(file)}: labels with includeSelectors/includeTemplates are not supported by the built-in kustomize.");
            foreach (var o in objects)
            {
                var metadata = Ensure(o, "metadata");
                var labels = Ensure(metadata, "labels");
                foreach (var (key, value) in label.Map("pairs")) labels[key] = value;
            }
        }

        foreach (var image in k.Maps("images"))
        {
            var name = image.Str("name")!;
            foreach (var container in objects.SelectMany(o => o.Maps("spec.template.spec.containers").Concat(o.Maps("spec.template.spec.initContainers"))))
            {
                var current = container.Str("image") ?? "";
                var repository = current.Split('@')[0];
                var tagAt = repository.LastIndexOf(':');
                if (tagAt > repository.LastIndexOf('/')) repository = repository[..tagAt];
                if (repository != name) continue;
                var tag = current.Length > repository.Length ? current[repository.Length..] : "";
                container["image"] = (image.Str("newName") ?? name) + (image.Str("newTag") is { } newTag ? ":" + newTag : tag);
            }
        }
        return objects;
    }

    private static void ApplyJson6902(List<Dictionary<string, object?>> objects, Dictionary<string, object?> target, List<object?> operations, string file)
    {
        var matches = objects.Where(o => Matches(new K8sObject(o), target)).ToList();
        if (matches.Count == 0) throw new InvalidDataException($"{Repo.Relative(file)}: patch target {Describe(target)} matches nothing");
        foreach (var o in matches)
        {
            foreach (var op in operations.OfType<Dictionary<string, object?>>())
            {
                var path = op.Str("path") ?? throw new InvalidDataException($"{file}: op without path");
                var (parent, key) = Resolve(o, path, file);
                switch (op.Str("op"))
                {
                    case "test":
                        if (!Yaml.DeepEquals(Get(parent, key, path, file), op.At("value")))
                            throw new InvalidDataException($"{Repo.Relative(file)}: test of {path} on {new K8sObject(o)} failed");
                        break;
                    case "replace":
                        _ = Get(parent, key, path, file);
                        Set(parent, key, Yaml.Clone(op.At("value")), insert: false, path, file);
                        break;
                    case "add":
                        Set(parent, key, Yaml.Clone(op.At("value")), insert: true, path, file);
                        break;
                    case "remove":
                        _ = Get(parent, key, path, file);
                        if (parent is Dictionary<string, object?> m) m.Remove(key);
                        else ((List<object?>)parent!).RemoveAt(int.Parse(key));
                        break;
                    default:
                        throw new NotSupportedException($"{Repo.Relative(file)}: op '{op.Str("op")}' is not supported by the built-in kustomize");
                }
            }
        }
    }

    private static void ApplyStrategicMerge(List<Dictionary<string, object?>> objects, Dictionary<string, object?> patch, string file)
    {
        var key = new K8sObject(patch);
        var index = objects.FindIndex(o => new K8sObject(o) is var t && t.Kind == key.Kind && t.Name == key.Name && t.Group == key.Group);
        if (index < 0) throw new InvalidDataException($"{Repo.Relative(file)}: strategic-merge patch {key} matches nothing");
        if (patch.Str("$patch") == "delete")
        {
            objects.RemoveAt(index);
            return;
        }
        Merge(objects[index], patch);
    }

    /// <summary>Maps merge key by key; anything else (lists included) is replaced. Enough for the patches in deploy/.</summary>
    private static void Merge(Dictionary<string, object?> target, Dictionary<string, object?> patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is Dictionary<string, object?> sub && target.TryGetValue(key, out var existing) && existing is Dictionary<string, object?> existingMap)
                Merge(existingMap, sub);
            else target[key] = Yaml.Clone(value);
        }
    }

    private static bool Matches(K8sObject o, Dictionary<string, object?> target) =>
        (target.Str("kind") is not { } kind || kind == o.Kind)
        && (target.Str("name") is not { } name || name == o.Name)
        && (target.Str("group") is not { } group || group == o.Group)
        && (target.Str("version") is not { } version || version == o.Version);

    private static string Describe(Dictionary<string, object?> target) => string.Join(",", target.Select(kv => $"{kv.Key}={kv.Value}"));

    private static (object? Parent, string Key) Resolve(Dictionary<string, object?> root, string pointer, string file)
    {
        var steps = pointer.TrimStart('/').Split('/').Select(s => s.Replace("~1", "/").Replace("~0", "~")).ToArray();
        object? node = root;
        foreach (var step in steps[..^1]) node = Get(node, step, pointer, file);
        return (node, steps[^1]);
    }

    private static object? Get(object? node, string key, string pointer, string file) => node switch
    {
        Dictionary<string, object?> map when map.TryGetValue(key, out var v) => v,
        List<object?> list when int.TryParse(key, out var i) && i >= 0 && i < list.Count => list[i],
        _ => throw new InvalidDataException($"{Repo.Relative(file)}: path {pointer} does not exist"),
    };

    private static void Set(object? parent, string key, object? value, bool insert, string pointer, string file)
    {
        switch (parent)
        {
            case Dictionary<string, object?> map:
                map[key] = value;
                break;
            case List<object?> list when key == "-" && insert:
                list.Add(value);
                break;
            case List<object?> list when int.TryParse(key, out var i) && i >= 0 && (insert ? i <= list.Count : i < list.Count):
                if (insert) list.Insert(i, value);
                else list[i] = value;
                break;
            default:
                throw new InvalidDataException($"{Repo.Relative(file)}: cannot set {pointer}");
        }
    }

    private static Dictionary<string, object?> Ensure(Dictionary<string, object?> node, string key)
    {
        if (node.TryGetValue(key, out var v) && v is Dictionary<string, object?> m) return m;
        var created = new Dictionary<string, object?>();
        node[key] = created;
        return created;
    }
}
