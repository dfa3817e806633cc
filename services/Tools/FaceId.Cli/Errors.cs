using System.Text;
using System.Text.RegularExpressions;
using Google.Rpc;
using Grpc.Core;

namespace FaceId.Cli;

/// <summary>A mistake on the command line found after parsing (e.g. an unreadable file): exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>Turns a gRPC failure into one clear line: service, status, reason, field violations.</summary>
public static partial class ErrorReport
{
    /// <summary>
    /// <c>faceidctl: metering (127.0.0.1:5103): INVALID_ARGUMENT: … [record.request_id: …; …]</c>, with
    /// the google.rpc details of the trailer (BadRequest field violations, ErrorInfo reason,
    /// PreconditionFailure, ResourceInfo) when the server sent them.
    /// </summary>
    public static string Describe(RpcException e, PlatformService? service, Endpoints endpoints)
    {
        var where = service is { } s ? $"{Endpoints.NameOf(s)} ({endpoints.Authority(s)}): " : "";
        var detail = e.StatusCode switch
        {
            StatusCode.Unavailable when service is { } u =>
                $"cannot reach {Endpoints.NameOf(u)} at {endpoints.Authority(u)}, or it cannot serve now ({OneLine(e.Status.Detail)}); is the platform running (./faceid run --detach)?",
            StatusCode.DeadlineExceeded => $"no answer within the deadline (--timeout) ({OneLine(e.Status.Detail)})",
            StatusCode.Unimplemented => $"the server does not implement this call ({OneLine(e.Status.Detail)})",
            _ => null,
        };
        return "faceidctl: " + where + Brief(e, detail);
    }

    /// <summary><c>STATUS [REASON]: detail [field: description; …]</c> without the service prefix.</summary>
    public static string Brief(RpcException e, string? detailOverride = null)
    {
        var line = new StringBuilder(StatusName(e.StatusCode));
        Google.Rpc.Status? status = null;
        try { status = e.GetRpcStatus(); }
        catch (Exception) { /* a malformed details trailer: report the plain status */ }

        var reason = status?.GetDetail<ErrorInfo>()?.Reason;
        if (!string.IsNullOrEmpty(reason)) line.Append(' ').Append(reason);
        var detail = detailOverride ?? OneLine(string.IsNullOrWhiteSpace(e.Status.Detail) ? status?.Message : e.Status.Detail);
        if (detail.Length > 0) line.Append(": ").Append(detail);

        var parts = new List<string>();
        if (status?.GetDetail<BadRequest>() is { } badRequest)
            parts.AddRange(badRequest.FieldViolations.Select(v => $"{v.Field}: {OneLine(v.Description)}"));
        if (status?.GetDetail<PreconditionFailure>() is { } precondition)
            parts.AddRange(precondition.Violations.Select(v => $"{v.Type} {v.Subject}: {OneLine(v.Description)}".Trim()));
        if (status?.GetDetail<ResourceInfo>() is { } resource)
            parts.Add($"{resource.ResourceType} {resource.ResourceName}".Trim());
        var text = line.ToString();
        parts = parts.Where(p => p.Length > 0 && !text.Contains(p, StringComparison.Ordinal)).Distinct().ToList();
        if (parts.Count > 0) line.Append(" [").Append(string.Join("; ", parts)).Append(']');
        return line.ToString();
    }

    /// <summary>The canonical upper-snake name: <c>InvalidArgument</c> → <c>INVALID_ARGUMENT</c>.</summary>
    public static string StatusName(StatusCode code) => UpperSnake().Replace(code.ToString(), "$1_$2").ToUpperInvariant();

    public static string OneLine(string? text) =>
        string.IsNullOrWhiteSpace(text) ? "" : Whitespace().Replace(text.Trim(), " ");

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex UpperSnake();

    [GeneratedRegex(@"\s*[\r\n]+\s*")]
    private static partial Regex Whitespace();
}
