using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.RegularExpressions;

namespace FaceId.Deploy.Tests;

/// <summary>
/// A setting the services refuse to start without: any one of <see cref="Keys"/> (configuration
/// keys in environment form, e.g. Auth__SigningKey or Auth__Authority), read by the options class
/// <see cref="Options"/>; <see cref="AppIds"/> are the services that bind it.
/// </summary>
public sealed record RequiredSetting(Type Options, IReadOnlyList<string> Keys, string Message, IReadOnlySet<string> AppIds)
{
    public override string ToString() => string.Join(" or ", Keys);
}

/// <summary>
/// The configuration the code knows, read from the code itself: the options classes (every type
/// with <c>public const string Section</c> in the FaceId assemblies) with their properties, the
/// <c>"Section:Key"</c> literals the code reads directly (Ports:Grpc, RateLimits:...), and which
/// settings are required: what the options' start-up validation (data annotations and
/// <see cref="IValidatableObject"/>, run by ValidateOnStart) rejects when left at its default.
/// </summary>
public static partial class CodeSettings
{
    /// <summary>Environment variables that are not .NET configuration of the services but are known to their runtime or image.</summary>
    public static readonly IReadOnlyList<string> RuntimePrefixes = ["OTEL_", "DOTNET_", "ASPNETCORE_", "Logging__", "FACEID_SERVICE"];

    /// <summary>Options classes by section, with the app ids of the services that bind them (building blocks: all five).</summary>
    public static IReadOnlyDictionary<string, (Type Type, IReadOnlySet<string> AppIds)> OptionTypes { get; } = FindOptionTypes();

    /// <summary>Keys the code reads as literals, e.g. "Ports:Grpc" (environment form Ports__Grpc).</summary>
    public static IReadOnlySet<string> LiteralKeys { get; } = SourceFiles()
        .SelectMany(text => LiteralKey().Matches(text).Select(m => m.Groups[1].Value.Replace(":", "__")))
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Options properties the code sets itself after binding (PostConfigure): never configuration.</summary>
    public static IReadOnlySet<string> SetByCode { get; } = SourceFiles()
        .SelectMany(text => PostConfigured().Matches(text).Select(m => m.Groups[1].Value))
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The console's service addresses, Services__&lt;Name&gt; for each key of ConsoleDefaults.ServiceAddresses
    /// (read with a computed key, so not a literal).
    /// </summary>
    public static IReadOnlySet<string> ConsoleServiceAddresses { get; } = FindConsoleServiceAddresses();

    public static IReadOnlyList<RequiredSetting> Required { get; } = FindRequired();

    /// <summary>The required settings of one service.</summary>
    public static IEnumerable<RequiredSetting> RequiredBy(string appId) => Required.Where(r => r.AppIds.Contains(appId));

    /// <summary>
    /// Why the code would not know <paramref name="name"/> (an environment variable a manifest
    /// gives <paramref name="appId"/>), or null when it does: a property path of an options class
    /// the service binds, a literal key of the code, or a runtime variable (<see cref="RuntimePrefixes"/>).
    /// </summary>
    public static string? Unknown(string name, string appId)
    {
        if (RuntimePrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) return null;
        if (LiteralKeys.Contains(name)) return null;
        if (appId == Repo.Console.AppId && ConsoleServiceAddresses.Contains(name)) return null;
        var parts = name.Split("__");
        if (parts.Length < 2) return $"{name} is not a configuration key (Section__Key) and no runtime variable ({string.Join(", ", RuntimePrefixes)}*)";
        if (!OptionTypes.TryGetValue(parts[0], out var options))
        {
            var sections = OptionTypes.Keys.Concat(LiteralKeys.Select(k => k.Split("__")[0])).Distinct(StringComparer.OrdinalIgnoreCase).Order();
            return $"{name}: the code binds no section {parts[0]} (sections: {string.Join(", ", sections)}; literal keys: {string.Join(", ", LiteralKeys.Order())})";
        }
        if (!options.AppIds.Contains(appId)) return $"{name}: {appId} does not bind {options.Type.Name} (only {string.Join(", ", options.AppIds.Order())})";
        var type = options.Type;
        foreach (var part in parts.Skip(1))
        {
            var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
                return $"{name}: {type.Name} has no property {part} (it has {string.Join(", ", type.GetProperties().Select(p => p.Name))})";
            if (SetByCode.Contains(property.Name)) return $"{name}: {type.Name}.{property.Name} is set by the code (PostConfigure), the setting would be ignored";
            type = property.PropertyType;
            if (!IsComplex(type)) return part == parts[^1] ? null : $"{name}: {property.Name} is a {type.Name}, it has no sub-keys";
        }
        return null;
    }

    /// <summary>Whether <paramref name="names"/> (environment variables with a non-empty value or a reference) satisfy <paramref name="setting"/>.</summary>
    public static bool Provides(IEnumerable<string> names, RequiredSetting setting) =>
        names.Any(n => setting.Keys.Contains(n.Replace(":", "__"), StringComparer.OrdinalIgnoreCase));

    private static bool IsComplex(Type t) => t.IsClass && t != typeof(string) && !t.IsArray && !typeof(System.Collections.IEnumerable).IsAssignableFrom(t);

    private static Dictionary<string, (Type, IReadOnlySet<string>)> FindOptionTypes()
    {
        var services = Repo.Services.ToDictionary(s => $"FaceId.{s.Folder}", s => s.AppId);
        var all = Repo.AppIds.ToHashSet();
        var found = new Dictionary<string, (Type, IReadOnlySet<string>)>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "FaceId.*.dll"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (name.EndsWith(".Tests", StringComparison.Ordinal) || name == "FaceId.TestKit") continue;
            Type?[] types;
            try { types = Assembly.Load(new AssemblyName(name)).GetTypes(); }
            catch (ReflectionTypeLoadException e) { types = e.Types; }
            foreach (var type in types.OfType<Type>().Where(t => t.IsClass && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null))
            {
                if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field || field.GetValue(null) is not string section) continue;
                IReadOnlySet<string> appIds = services.TryGetValue(name, out var appId) ? new HashSet<string> { appId }
                    : ConsoleBinds(type) ? [.. all, Repo.Console.AppId] : all;
                found[section] = (type, appIds);
            }
        }
        // The five services and the building blocks are referenced by this project: the sections the sources declare are all here.
        foreach (var section in Repo.OptionSections.Where(s => !LiteralKeySections().Contains(s)))
            if (!found.ContainsKey(section)) throw new InvalidOperationException($"The sources declare the options section {section}, but no loaded assembly has its class (is the project referenced by FaceId.Deploy.Tests?).");
        return found;
    }

    /// <summary>Whether the console binds this building-block options class (BindConfiguration(X.Section) / GetSection(X.Section) in its sources).</summary>
    private static bool ConsoleBinds(Type options) => SourceFiles(Repo.PathOf($"services/{Repo.Console.Folder}"))
        .Any(text => Regex.IsMatch(text, $@"(?:BindConfiguration|GetSection)\(\s*{options.Name}\.Section\s*\)"));

    private static HashSet<string> FindConsoleServiceAddresses()
    {
        var defaults = Repo.Read($"services/{Repo.Console.Folder}/ConsoleDefaults.cs");
        var section = Regex.Match(defaults, @"ServicesSection\s*=\s*""(\w+)""").Groups[1].Value;
        var names = Regex.Matches(defaults, @"\[""(\w+)""\]\s*=\s*""http").Select(m => $"{section}__{m.Groups[1].Value}").ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (section.Length == 0 || names.Count == 0) throw new InvalidDataException("ConsoleDefaults.cs: no ServicesSection or ServiceAddresses found.");
        return names;
    }

    private static HashSet<string> LiteralKeySections() => SourceFiles()
        .SelectMany(text => LiteralKey().Matches(text).Select(m => m.Groups[1].Value.Split(':')[0]))
        .ToHashSet(StringComparer.Ordinal);

    private static List<RequiredSetting> FindRequired()
    {
        var required = new List<RequiredSetting>();
        foreach (var (section, (type, appIds)) in OptionTypes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var defaults = Activator.CreateInstance(type)!;
            foreach (var failure in Validate(defaults))
            {
                foreach (var member in failure.MemberNames.Where(m => !SetByCode.Contains(m)))
                {
                    // Alternatives: another setting of the class that, when set, lifts this failure (Auth:Authority for Auth:SigningKey).
                    var keys = new List<string> { $"{section}__{member}" };
                    foreach (var other in type.GetProperties().Where(p => p.Name != member && p.PropertyType == typeof(string) && p.CanWrite && !SetByCode.Contains(p.Name)))
                    {
                        var candidate = Activator.CreateInstance(type)!;
                        if (other.GetValue(candidate) is string { Length: > 0 }) continue;
                        other.SetValue(candidate, "https://required-check.invalid");
                        if (!Validate(candidate).Any(f => f.MemberNames.Contains(member))) keys.Add($"{section}__{other.Name}");
                    }
                    required.Add(new RequiredSetting(type, keys, failure.ErrorMessage ?? "", appIds));
                }
            }
        }
        return required;
    }

    private static List<ValidationResult> Validate(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        // The validator skips IValidatableObject when a property failed; ValidateOnStart reports both.
        if (options is IValidatableObject validatable && results.Count > 0)
            results.AddRange(validatable.Validate(new ValidationContext(options)).Where(r => !results.Any(x => x.ErrorMessage == r.ErrorMessage)));
        return results;
    }

    private static IEnumerable<string> SourceFiles() => SourceFiles(Repo.PathOf("services"));

    private static IEnumerable<string> SourceFiles(string directory) => Directory
        .EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
            && !f.Contains($"{Path.DirectorySeparatorChar}Tools{Path.DirectorySeparatorChar}"))
        .Select(File.ReadAllText);

    // configuration["A:B"], GetValue<T>("A:B"), GetValue("A:B", …) and constants named …Key = "A:B".
    [GeneratedRegex(@"(?:configuration|Configuration|GetValue<[^>]+>|GetValue|Key\s*=)\s*[\[(]?\s*""([A-Z][A-Za-z]+(?::[A-Z][A-Za-z]*)+)""")]
    private static partial Regex LiteralKey();

    [GeneratedRegex(@"PostConfigure\(\s*\w+\s*=>\s*\w+\.(\w+)\s*=")]
    private static partial Regex PostConfigured();
}
