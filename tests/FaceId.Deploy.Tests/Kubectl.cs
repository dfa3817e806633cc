using System.Collections.Concurrent;
using System.Diagnostics;

namespace FaceId.Deploy.Tests;

/// <summary>A rendered kustomization: its objects, as <c>kubectl kustomize</c> printed them.</summary>
public sealed record Rendering(string Directory, IReadOnlyList<K8sObject> Objects)
{
    public IEnumerable<K8sObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public K8sObject? Find(string kind, string name) => Objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);

    public K8sObject Single(string kind, string name) =>
        Find(kind, name) ?? throw new Xunit.Sdk.XunitException($"{Directory} renders no {kind}/{name}; it has {string.Join(", ", Objects)}.");

    /// <summary>A deep copy whose objects a test may change (to prove that a check fails).</summary>
    public Rendering Copy() => this with { Objects = Objects.Select(o => new K8sObject((Dictionary<string, object?>)Yaml.Clone(o.Node)!)).ToList() };
}

/// <summary>
/// Renders a kustomization with the real <c>kubectl kustomize</c> (kustomize v5 inside kubectl),
/// the same renderer as <c>kubectl apply -k</c>. kubectl (1.27 or later: kustomize v5) is
/// required: without it every test that renders fails with a message saying so, never skips.
/// KUBECTL may name the binary.
/// </summary>
public static class Kustomize
{
    private static readonly ConcurrentDictionary<string, Lazy<Rendering>> Cache = new();
    private static readonly Lazy<string> KubectlPath = new(FindKubectl);

    public static string Kubectl => KubectlPath.Value;

    /// <summary>The rendering of <paramref name="relativeDirectory"/> (once per test run; callers that change it take a <see cref="Rendering.Copy"/>).</summary>
    public static Rendering Render(string relativeDirectory) =>
        Cache.GetOrAdd(relativeDirectory, d => new Lazy<Rendering>(() => Run(d))).Value;

    private static Rendering Run(string relativeDirectory)
    {
        var start = new ProcessStartInfo(Kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(Repo.PathOf(relativeDirectory));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {Kubectl}");
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
        return new Rendering(relativeDirectory, objects);
    }

    private static string FindKubectl()
    {
        const string Hint = "The deployment checks render deploy/k8s with `kubectl kustomize`: `./faceid test` installs kubectl "
            + "into .tools/bin when it is missing; or install kubectl yourself (any kubectl >= 1.27, which embeds kustomize v5) or set KUBECTL to its path.";
        string[] candidates = Environment.GetEnvironmentVariable("KUBECTL") is { Length: > 0 } named
            ? [named]
            : [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "kubectl")),
               Repo.PathOf(".tools/bin/kubectl")];
        var rejected = new List<string>();
        foreach (var candidate in candidates.Where(File.Exists))
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(candidate, "version --client") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
                if (p is null) continue;
                var version = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(TimeSpan.FromSeconds(30)) || p.ExitCode != 0) { rejected.Add($"{candidate}: `kubectl version --client` failed"); continue; }
                // deploy/k8s uses kustomize v5 features (labels, inline patches); kubectl before 1.27 embeds an older kustomize.
                var kustomize = System.Text.RegularExpressions.Regex.Match(version, @"Kustomize Version:\s*v(\d+)");
                if (kustomize.Success && int.Parse(kustomize.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 5) return candidate;
                rejected.Add($"{candidate} embeds {(kustomize.Success ? "kustomize v" + kustomize.Groups[1].Value : "no kustomize version it reports")}, not v5 ({version.Split('\n')[0].Trim()})");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                rejected.Add($"{candidate}: not executable");
            }
        }
        throw new Xunit.Sdk.XunitException(rejected.Count == 0
            ? $"kubectl not found ({(candidates.Length == 1 ? candidates[0] : "PATH")}). {Hint}"
            : $"no usable kubectl: {string.Join("; ", rejected)}. {Hint}");
    }
}
