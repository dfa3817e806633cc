using System.Text.RegularExpressions;

namespace FaceId.Deploy.Tests;

/// <summary>A service as the code defines it: its folder under services/, its project and its app id (the *Host.AppId constant).</summary>
public sealed record ServiceInfo(string Folder, string AppId, string Project);

/// <summary>Facts read from the repository: the code, the container recipe and the documented port table.</summary>
public static partial class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>
    /// The deployable services: every <c>services/&lt;Folder&gt;/*Host.cs</c> declaring
    /// <c>public const string AppId = "…";</c>, with its project <c>services/&lt;Folder&gt;/FaceId.&lt;Folder&gt;.csproj</c>
    /// (the layout deploy/image/Containerfile builds from SERVICE=&lt;Folder&gt;).
    /// </summary>
    public static IReadOnlyList<ServiceInfo> Services { get; } = FindServices();

    public static IReadOnlyList<string> AppIds => Services.Select(s => s.AppId).ToList();

    /// <summary>
    /// The web console (docs/console.md): deployed like a service (same image recipe, its own
    /// Deployment and Service) but HTTP only, without a sidecar, Redis or an app id constant.
    /// </summary>
    public static ServiceInfo Console { get; } = new("Console", "console", "services/Console/FaceId.Console.csproj");

    /// <summary>Everything deploy/k8s runs as a Deployment of its own: the five services and the console.</summary>
    public static IReadOnlyList<ServiceInfo> Deployables => [.. Services, Console];

    /// <summary>The Deployment names: the app ids and "console", ordered.</summary>
    public static IReadOnlyList<string> DeploymentNames => Deployables.Select(s => s.AppId).Order(StringComparer.Ordinal).ToList();

    /// <summary>The container ports the image sets: ENV Ports__Grpc / Ports__Http in deploy/image/Containerfile.</summary>
    public static (string Grpc, string Http) ContainerPorts { get; } = RecipePorts();

    /// <summary>The documented local ports per app id: the table of docs/api.md ("Transport, health, reflection").</summary>
    public static IReadOnlyDictionary<string, (string Grpc, string Http)> LocalPorts(string relative) =>
        PortRow().Matches(Read(relative)).ToDictionary(m => m.Groups["app"].Value, m => (m.Groups["grpc"].Value, m.Groups["http"].Value));

    /// <summary>
    /// The configuration sections the code reads: the <c>Section = "…"</c> constants of the options
    /// classes and the first part of configuration keys written as <c>"Section:Key"</c> literals.
    /// </summary>
    public static IReadOnlySet<string> OptionSections { get; } = Directory
        .EnumerateFiles(PathOf("services"), "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
        .Select(File.ReadAllText)
        .SelectMany(text => SectionConstant().Matches(text).Select(m => m.Groups[1].Value)
            .Concat(ConfigurationKey().Matches(text).Select(m => m.Groups[1].Value)))
        .ToHashSet();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FaceIdPlatform.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"FaceIdPlatform.sln not found above {AppContext.BaseDirectory}.");
    }

    private static List<ServiceInfo> FindServices()
    {
        var services = new List<ServiceInfo>();
        foreach (var folder in Directory.EnumerateDirectories(PathOf("services")))
        {
            foreach (var host in Directory.EnumerateFiles(folder, "*Host.cs", SearchOption.TopDirectoryOnly))
            {
                var match = AppIdConstant().Match(File.ReadAllText(host));
                if (!match.Success) continue;
                var name = Path.GetFileName(folder);
                services.Add(new ServiceInfo(name, match.Groups[1].Value, $"services/{name}/FaceId.{name}.csproj"));
            }
        }
        return services.OrderBy(s => s.AppId, StringComparer.Ordinal).ToList();
    }

    private static (string, string) RecipePorts()
    {
        var text = Read("deploy/image/Containerfile");
        string Env(string key) => Regex.Match(text, $@"\b{key}=(\d+)").Groups[1].Value is { Length: > 0 } v ? v
            : throw new InvalidDataException($"deploy/image/Containerfile sets no {key}.");
        return (Env("Ports__Grpc"), Env("Ports__Http"));
    }

    [GeneratedRegex(@"public\s+const\s+string\s+AppId\s*=\s*""([^""]+)""")]
    private static partial Regex AppIdConstant();

    [GeneratedRegex(@"public\s+const\s+string\s+Section\s*=\s*""([^""]+)""")]
    private static partial Regex SectionConstant();

    [GeneratedRegex(@"(?:configuration|Configuration|GetValue<[^>]+>|GetSection|Key\s*=)\s*[\[(]?\s*""([A-Z][A-Za-z]+):[A-Z][A-Za-z]*""")]
    private static partial Regex ConfigurationKey();

    [GeneratedRegex(@"^[ \t]*\|\s*\w+\s*\|\s*`(?<app>[a-z][a-z0-9-]*)`\s*\|\s*(?<grpc>\d+)\s*\|\s*(?<http>\d+)\s*\|", RegexOptions.Multiline)]
    private static partial Regex PortRow();
}
