using System.Globalization;
using System.Text.Json;
using Google.Api;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using FaceId.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace FaceId.ServiceDefaults.HttpJson;

/// <summary>
/// What a transcoded HTTP/JSON request is checked and normalized for before grpc-dotnet binds it:
/// <list type="bullet">
/// <item>Query parameters bound to a <c>google.protobuf.Timestamp</c> accept the forms people type:
/// RFC 3339 with <c>Z</c> or an offset (also when the offset's <c>+</c> arrived as a space, as query
/// decoding makes of an unencoded <c>+</c>), a date-time without offset (Asia/Shanghai), a Shanghai
/// day <c>2026-12-01</c> or month <c>2026-12</c> (its first instant), and <c>now</c>. They are
/// rewritten as UTC RFC 3339.</item>
/// <item>Query parameters bound to an enum accept the full proto name or the short one
/// (<c>GRANULARITY_DAY</c>, <c>day</c>), any case, <c>-</c> for <c>_</c>; they are rewritten as the
/// full name.</item>
/// <item>A JSON body may not carry fields the bound message does not have: grpc-dotnet's
/// transcoding skips unknown fields without a word (its message converter has no setting for it),
/// so a misplaced wrapper (<c>{"contacts":{…}}</c> for a body that <em>is</em> the contacts) read
/// as an empty message and failed on a field the caller did send.</item>
/// </list>
/// A value that cannot be read, or an unknown body field, answers 400 / INVALID_ARGUMENT problem
/// details naming the field(s) (<c>errors[].field</c>, as the services' own validation does).
/// </summary>
public sealed class HttpJsonRequestMiddleware(RequestDelegate next)
{
    /// <summary>Bodies larger than this are left to the transcoder unchecked (none of the console's requests comes close).</summary>
    public const int MaxCheckedBodyBytes = 1024 * 1024;

    private static readonly TimeSpan Shanghai = TimeSpan.FromHours(8);

    public async Task InvokeAsync(HttpContext http)
    {
        var metadata = http.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        // Without a valid token the call is refused (401) by the authorization interceptor: nothing to check here.
        if (metadata is null || http.User.Identity?.IsAuthenticated != true)
        {
            await next(http);
            return;
        }
        var errors = new List<(string Field, string Description)>();
        NormalizeQuery(http.Request, metadata.MethodDescriptor.InputType, errors, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow());
        if (errors.Count > 0)
        {
            await WriteQueryErrorsAsync(http.Response, errors);
            return;
        }
        if (!string.IsNullOrEmpty(metadata.HttpRule.Body) && await UnknownBodyFieldsAsync(http.Request, metadata) is { Count: > 0 } unknown)
        {
            await ProblemDetailsMiddleware.WriteAsync(http.Response, StatusCode.InvalidArgument,
                "Unknown field(s) in the JSON body: " + string.Join(", ", unknown.Select(u => u.Field)), unknown);
            return;
        }
        await next(http);
    }

    // ---- query parameters ------------------------------------------------------------------------

    private static void NormalizeQuery(HttpRequest request, MessageDescriptor input, List<(string, string)> errors, DateTimeOffset now)
    {
        if (request.Query.Count == 0) return;
        var changed = false;
        var rewritten = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        foreach (var (key, values) in request.Query)
        {
            rewritten[key] = values;
            if (Resolve(input, key) is not { } resolved) continue;
            var (field, path) = resolved;
            var normalized = new string?[values.Count];
            for (var i = 0; i < values.Count; i++)
            {
                var value = values[i] ?? "";
                string? result;
                if (field.FieldType == FieldType.Message && field.MessageType.FullName == "google.protobuf.Timestamp")
                {
                    result = InstantText.TryParse(value, now, out var instant) ? instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture) : null;
                    if (result is null) errors.Add((path, NotAnInstant(value)));
                }
                else if (field.FieldType == FieldType.Enum)
                {
                    result = TryParseEnum(field.EnumType, value, out var name) ? name : null;
                    if (result is null) errors.Add((path, NotOneOf(field.EnumType, value)));
                }
                else
                {
                    result = value;
                }
                normalized[i] = result ?? value;
                changed |= !string.Equals(result, value, StringComparison.Ordinal);
            }
            rewritten[key] = new StringValues(normalized);
        }
        if (changed) request.Query = new QueryCollection(rewritten);
    }

    /// <summary>The field a query key binds to (dotted path of proto or JSON names), and its proto path for errors.</summary>
    private static (FieldDescriptor Field, string Path)? Resolve(MessageDescriptor message, string key)
    {
        FieldDescriptor? field = null;
        var path = new List<string>();
        foreach (var part in key.Split('.'))
        {
            if (field is not null)
            {
                if (field.FieldType != FieldType.Message || field.IsMap) return null;
                message = field.MessageType;
            }
            field = message.FindFieldByName(part) ?? message.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == part);
            if (field is null) return null;
            path.Add(field.Name);
        }
        return field is null ? null : (field, string.Join('.', path));
    }

    /// <summary>The field violation of a query value that is not an instant (<see cref="InstantText.TryParse"/>).</summary>
    public static string NotAnInstant(string value) =>
        $"'{CallerInput.Echo(value)}' is not an instant: RFC 3339 (2026-12-01T00:00:00Z, 2026-12-01T08:00:00+08:00 with the + encoded as %2B), an Asia/Shanghai day 2026-12-01 or month 2026-12, or now";

    /// <summary>The field violation of a query value that names no value of <paramref name="type"/>.</summary>
    public static string NotOneOf(EnumDescriptor type, string value) =>
        $"'{CallerInput.Echo(value)}' is not one of {string.Join(", ", type.Values.Where(v => v.Number != 0).Select(v => $"{ShortName(type, v)} ({v.Name})"))}";

    /// <summary>400 INVALID_ARGUMENT naming every query parameter that cannot be read.</summary>
    public static Task WriteQueryErrorsAsync(HttpResponse response, IReadOnlyList<(string Field, string Description)> errors) =>
        ProblemDetailsMiddleware.WriteAsync(response, StatusCode.InvalidArgument,
            "Query parameter(s) cannot be read: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Description}")), errors);

    /// <summary>The full proto name (any case) or the short one (<c>day</c>, <c>self-photo</c>); not UNSPECIFIED.</summary>
    public static bool TryParseEnum(EnumDescriptor type, string text, out string name)
    {
        var key = text.Trim().Replace('-', '_').ToUpperInvariant();
        foreach (var value in type.Values)
        {
            if (value.Number == 0) continue;
            if (key == value.Name || key == ShortName(type, value).ToUpperInvariant() || key == value.Number.ToString(CultureInfo.InvariantCulture))
            {
                name = value.Name;
                return true;
            }
        }
        name = "";
        return false;
    }

    /// <summary><c>GRANULARITY_DAY</c> → <c>day</c> (the prefix is the UNSPECIFIED value's).</summary>
    private static string ShortName(EnumDescriptor type, EnumValueDescriptor value)
    {
        var zero = type.FindValueByNumber(0)?.Name ?? "";
        var prefix = zero.EndsWith("UNSPECIFIED", StringComparison.Ordinal) ? zero[..^"UNSPECIFIED".Length] : "";
        var shortName = value.Name.StartsWith(prefix, StringComparison.Ordinal) ? value.Name[prefix.Length..] : value.Name;
        return shortName.ToLowerInvariant().Replace('_', '-');
    }

    // ---- JSON body ------------------------------------------------------------------------------

    private static async Task<List<(string Field, string Description)>> UnknownBodyFieldsAsync(HttpRequest request, GrpcJsonTranscodingMetadata metadata)
    {
        var unknown = new List<(string, string)>();
        if (request.ContentLength is 0 or > MaxCheckedBodyBytes) return unknown;
        var rule = metadata.HttpRule;
        MessageDescriptor bodyType;
        var prefix = "";
        if (rule.Body == "*") bodyType = metadata.MethodDescriptor.InputType;
        else if (Resolve(metadata.MethodDescriptor.InputType, rule.Body) is { Field: { FieldType: FieldType.Message, IsRepeated: false } field, Path: var path })
        {
            bodyType = field.MessageType;
            prefix = path + ".";
        }
        else return unknown;
        if (IsWellKnown(bodyType)) return unknown;

        request.EnableBuffering();
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        request.Body.Position = 0;
        if (buffer.Length is 0 or > MaxCheckedBodyBytes) return unknown;
        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            if (document.RootElement.ValueKind == JsonValueKind.Object) Walk(document.RootElement, bodyType, prefix, unknown);
        }
        catch (JsonException)
        {
            // Not JSON: the transcoder answers it (400 INVALID_ARGUMENT) as before.
        }
        return unknown;
    }

    private static void Walk(JsonElement json, MessageDescriptor message, string prefix, List<(string, string)> unknown)
    {
        foreach (var property in json.EnumerateObject())
        {
            var field = message.FindFieldByName(property.Name) ?? message.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == property.Name);
            if (field is null)
            {
                var known = string.Join(", ", message.Fields.InDeclarationOrder().Select(f => f.JsonName));
                unknown.Add((prefix + CallerInput.Echo(property.Name), $"unknown field: {message.FullName} has {(known.Length > 0 ? known : "no fields")}"));
                continue;
            }
            if (field.FieldType != FieldType.Message) continue;
            var path = prefix + field.Name;
            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                if (valueField.FieldType != FieldType.Message || IsWellKnown(valueField.MessageType) || property.Value.ValueKind != JsonValueKind.Object) continue;
                foreach (var entry in property.Value.EnumerateObject())
                    if (entry.Value.ValueKind == JsonValueKind.Object) Walk(entry.Value, valueField.MessageType, $"{path}[{entry.Name}].", unknown);
                continue;
            }
            if (IsWellKnown(field.MessageType)) continue;
            if (field.IsRepeated)
            {
                if (property.Value.ValueKind != JsonValueKind.Array) continue;
                var i = 0;
                foreach (var item in property.Value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object) Walk(item, field.MessageType, $"{path}[{i}].", unknown);
                    i++;
                }
            }
            else if (property.Value.ValueKind == JsonValueKind.Object)
            {
                Walk(property.Value, field.MessageType, path + ".", unknown);
            }
        }
    }

    /// <summary>Timestamp, Duration, Struct, Any, wrappers...: their JSON is not an object of fields.</summary>
    private static bool IsWellKnown(MessageDescriptor message) => message.File.Package == "google.protobuf";
}
