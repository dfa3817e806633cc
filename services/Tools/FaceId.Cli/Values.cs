using System.CommandLine;
using System.CommandLine.Parsing;
using System.Reflection;
using FaceId.Common;
using Google.Protobuf.Reflection;

namespace FaceId.Cli;

/// <summary>Parsers of option values: instants (Shanghai calendar), proto enums by short or full name.</summary>
public static class Values
{
    /// <summary>Instants as <see cref="InstantText.TryParse"/> reads them (the HTTP/JSON routes read them alike).</summary>
    public static bool TryParseInstant(string text, DateTimeOffset now, out DateTimeOffset instant) => InstantText.TryParse(text, now, out instant);

    /// <summary>An option holding an instant (see <see cref="TryParseInstant"/>); a bad value is a usage error.</summary>
    public static Option<DateTimeOffset?> InstantOption(string name, string description) => new(name)
    {
        Description = description + " (now, 2026-11-26, 2026-11, or RFC 3339 such as 2026-11-26T10:15:00+08:00; Shanghai time when no offset)",
        HelpName = "instant",
        CustomParser = result =>
        {
            var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (TryParseInstant(token, DateTimeOffset.UtcNow, out var instant)) return instant;
            result.AddError($"{name}: '{token}' is not an instant (now, 2026-11-26, 2026-11, or RFC 3339 such as 2026-11-26T10:15:00+08:00).");
            return null;
        },
    };

    /// <summary>
    /// An option naming a value of proto enum <typeparamref name="T"/>: the short name (<c>saas</c>,
    /// <c>self-photo</c>) or the full one (<c>ACCESS_MODE_SAAS</c>), any case; UNSPECIFIED is not offered.
    /// </summary>
    public static Option<T?> EnumOption<T>(string name, string description, T? defaultValue = null) where T : struct, System.Enum
    {
        var names = ShortNames<T>();
        var option = new Option<T?>(name)
        {
            Description = $"{description}: {string.Join(", ", names.Keys)}",
            HelpName = string.Join("|", names.Keys),
            CustomParser = result =>
            {
                var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (TryParseEnum<T>(token, out var value)) return value;
                result.AddError($"{name}: '{token}' is not one of {string.Join(", ", names.Keys)}.");
                return null;
            },
        };
        // The default is applied by the command (GetValue(option) ?? default), so that help shows the proto name.
        if (defaultValue is { } d) option.Description += $" (default: {Render.Enum(d).ToLowerInvariant().Replace('_', '-')})";
        option.CompletionSources.Add(names.Keys.ToArray());
        return option;
    }

    public static bool TryParseEnum<T>(string text, out T value) where T : struct, System.Enum
    {
        var key = text.Trim().Replace('-', '_').ToUpperInvariant();
        foreach (var field in typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var full = field.GetCustomAttribute<OriginalNameAttribute>()?.Name ?? field.Name;
            var current = (T)field.GetValue(null)!;
            var shortName = Render.Enum(current);
            if (shortName.Length > 0 && (key == full || key == shortName))
            {
                value = current;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>Short names in lower-kebab case (<c>self-photo</c>), without UNSPECIFIED.</summary>
    public static Dictionary<string, T> ShortNames<T>() where T : struct, System.Enum =>
        System.Enum.GetValues<T>()
            .Select(v => (Name: Render.Enum(v).ToLowerInvariant().Replace('_', '-'), Value: v))
            .Where(p => p.Name.Length > 0)
            .ToDictionary(p => p.Name, p => p.Value);

    /// <summary>A fresh idempotency key for a write the operator did not key: <c>faceidctl-&lt;32 hex&gt;</c>.</summary>
    public static string NewKey() => "faceidctl-" + Guid.NewGuid().ToString("N");

}
