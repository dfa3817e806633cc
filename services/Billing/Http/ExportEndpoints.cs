using System.Reflection;
using FaceId.Billing.Application;
using FaceId.Billing.Domain;
using FaceId.Billing.Grpc;
using FaceId.Common;
using FaceId.ServiceDefaults;
using FaceId.ServiceDefaults.HttpJson;
using FaceId.ServiceDefaults.Security;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.Net.Http.Headers;
using ContractGranularity = FaceId.Contracts.Billing.V1.Granularity;

namespace FaceId.Billing.Http;

/// <summary>
/// The exports as file downloads on the HTTP/1.1 port (docs/api.md, "Exports"). Not transcoded: gRPC
/// JSON transcoding would wrap a server stream in a JSON array, so these are plain endpoints over the
/// same <see cref="ExportService"/>, with the caller rule of the gRPC methods' <see cref="AllowAttribute"/>
/// (<see cref="HttpCallerCheck"/>), the per-caller rate limit, the query forms of the transcoded routes
/// (<see cref="InstantText.TryParse"/>, <see cref="HttpJsonRequestMiddleware.TryParseEnum"/>)
/// and problem-details errors. The answer is the file: Content-Type and Content-Disposition: attachment.
/// </summary>
public static class ExportEndpoints
{
    public const string StatisticsRoute = "/v1/accounts/{account_id}/exports/statistics";
    public const string BillsRoute = "/v1/accounts/{account_id}/exports/bills";

    private static readonly EnumDescriptor GranularityType = FaceId.Contracts.Billing.V1.BillingReflection.Descriptor.FindTypeByName<EnumDescriptor>("Granularity");
    private static readonly EnumDescriptor FormatType = FaceId.Contracts.Billing.V1.BillingReflection.Descriptor.FindTypeByName<EnumDescriptor>("ExportFormat");

    private static readonly AllowAttribute StatisticsRule = RuleOf(nameof(BillingGrpcService.ExportStatistics));
    private static readonly AllowAttribute BillsRule = RuleOf(nameof(BillingGrpcService.ExportBills));

    public static WebApplication MapExportEndpoints(this WebApplication app)
    {
        var port = app.Configuration.GetValue<int?>("Ports:Http");
        foreach (var endpoint in new[] { app.MapGet(StatisticsRoute, StatisticsAsync), app.MapGet(BillsRoute, BillsAsync) })
        {
            endpoint.RequireRateLimiting(RateLimits.PerCaller).ExcludeFromDescription();
            if (port is { } p) endpoint.RequireHost($"*:{p}");
        }
        return app;
    }

    private static AllowAttribute RuleOf(string method) =>
        typeof(BillingGrpcService).GetMethod(method)?.GetCustomAttribute<AllowAttribute>()
        ?? throw new InvalidOperationException($"BillingGrpcService.{method} declares no [Allow]");

    private static Task StatisticsAsync(HttpContext http) => ServeAsync(http, StatisticsRule, "ExportStatistics", (query, errors) =>
    {
        var granularity = Enum(query, errors, "granularity", GranularityType) switch
        {
            (int)ContractGranularity.Day => StatGranularity.Day,
            (int)ContractGranularity.Month => StatGranularity.Month,
            (int)ContractGranularity.Unspecified => (StatGranularity?)null,
            var other => throw new InvalidOperationException($"granularity {other} has no statistics granularity"),
        };
        var byMode = Bool(query, errors, "by_access_mode", "byAccessMode");
        var bySub = Bool(query, errors, "by_sub_account", "bySubAccount");
        var from = Instant(http, query, errors, "from");
        var to = Instant(http, query, errors, "to");
        var format = Format(query, errors);
        if (errors.Count > 0) return null;
        return exports => exports.StatisticsAsync(Account(http), from, to, granularity, byMode, bySub, format);
    });

    private static Task BillsAsync(HttpContext http) => ServeAsync(http, BillsRule, "ExportBills", (query, errors) =>
    {
        var from = Instant(http, query, errors, "from");
        var to = Instant(http, query, errors, "to");
        var format = Format(query, errors);
        if (errors.Count > 0) return null;
        return exports => exports.BillsAsync(Account(http), from, to, format);
    });

    private static string Account(HttpContext http) => http.Request.RouteValues["account_id"] as string ?? "";

    private static async Task ServeAsync(HttpContext http, AllowAttribute rule, string method,
        Func<IQueryCollection, List<(string Field, string Description)>, Func<ExportService, Task<ExportFile>>?> bind)
    {
        var services = http.RequestServices;
        // The account field of both export requests is account_id: the rule checks it as for a gRPC call.
        var request = new FaceId.Contracts.Billing.V1.ExportStatisticsRequest { AccountId = Account(http) };
        if (!await services.GetRequiredService<HttpCallerCheck>().AllowAsync(http, rule, request, "/faceid.billing.v1.BillingService/" + method)) return;
        var errors = new List<(string Field, string Description)>();
        var open = bind(http.Request.Query, errors);
        if (open is null)
        {
            await HttpJsonRequestMiddleware.WriteQueryErrorsAsync(http.Response, errors);
            return;
        }
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExportEndpoints));
        ExportFile file;
        try
        {
            file = await open(services.GetRequiredService<ExportService>());
        }
        catch (Exception e)
        {
            await ProblemDetailsMiddleware.WriteAsync(http.Response, e, logger, method);
            return;
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = file.ContentType;
        http.Response.Headers[HeaderNames.ContentDisposition] = new ContentDispositionHeaderValue("attachment") { FileName = file.FileName }.ToString();
        http.Response.Headers[HeaderNames.CacheControl] = "no-store";
        try
        {
            await foreach (var chunk in file.ChunksAsync(http.RequestAborted))
            {
                await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            // The status line has left: the only honest signal left is a cut connection (the file is incomplete).
            logger.LogWarning(e, "{Method} over HTTP failed after the first bytes; connection aborted", method);
            http.Abort();
        }
    }

    // ---- query values: the forms of the transcoded routes -------------------------------------------

    private static string? Value(IQueryCollection query, params string[] names) =>
        names.Select(n => query.TryGetValue(n, out var v) ? v.ToString() : null).FirstOrDefault(v => v is not null);

    private static DateTimeOffset? Instant(HttpContext http, IQueryCollection query, List<(string, string)> errors, string name)
    {
        if (Value(query, name) is not { } text) return null;
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (InstantText.TryParse(text, now, out var instant)) return instant;
        errors.Add((name, HttpJsonRequestMiddleware.NotAnInstant(text)));
        return null;
    }

    /// <summary>The enum value's number; 0 when absent or unreadable (an unreadable one is an error).</summary>
    private static int Enum(IQueryCollection query, List<(string, string)> errors, string name, EnumDescriptor type)
    {
        if (Value(query, name) is not { } text) return 0;
        if (HttpJsonRequestMiddleware.TryParseEnum(type, text, out var full)) return type.FindValueByName(full).Number;
        errors.Add((name, HttpJsonRequestMiddleware.NotOneOf(type, text)));
        return 0;
    }

    /// <summary>csv (the default) or jsonl.</summary>
    private static Domain.ExportFormat Format(IQueryCollection query, List<(string, string)> errors) =>
        Value(query, "format") is null ? Domain.ExportFormat.Csv : (Domain.ExportFormat)Enum(query, errors, "format", FormatType);

    private static bool Bool(IQueryCollection query, List<(string, string)> errors, string name, string jsonName)
    {
        switch (Value(query, name, jsonName)?.Trim().ToLowerInvariant())
        {
            case null or "" or "false" or "0": return false;
            case "true" or "1": return true;
            default:
                errors.Add((name, $"'{CallerInput.Echo(Value(query, name, jsonName))}' is not true or false"));
                return false;
        }
    }
}
