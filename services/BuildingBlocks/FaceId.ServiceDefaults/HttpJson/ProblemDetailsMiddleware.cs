using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FaceId.ServiceDefaults.HttpJson;

/// <summary>
/// Rewrites the error body of a transcoded call (a JSON google.rpc.Status) into RFC 9457 problem
/// details that keep the gRPC status, so a front end reads one error shape everywhere:
/// <c>{"type","title","status","detail","grpcStatus","grpcCode","errors":[{"field","description"}],"reason","details"}</c>.
/// gRPC calls and successful responses pass through untouched; only the (small) body of a
/// transcoded unary call is buffered.
/// </summary>
public sealed class ProblemDetailsMiddleware(RequestDelegate next)
{
    public const string ContentType = "application/problem+json";

    public async Task InvokeAsync(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is null)
        {
            await next(http);
            return;
        }
        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await next(http);
        }
        finally
        {
            http.Response.Body = original;
        }
        if (http.Response.StatusCode >= 400 && TryReadStatus(buffer.ToArray()) is { } status)
        {
            await WriteAsync(http.Response, ToProblem(status, http.Response.StatusCode));
            return;
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(original, http.RequestAborted);
    }

    /// <summary>Writes a problem for a failure that never reached a gRPC method (e.g. the rate limiter).</summary>
    public static Task WriteAsync(HttpResponse response, StatusCode code, string detail) =>
        WriteAsync(response, Problem(code, detail, HttpStatusFor(code)));

    /// <summary>
    /// Writes a problem with field errors for a request refused before it reached a gRPC method (an
    /// unreadable query parameter, an unknown body field): the same shape, and the same
    /// google.rpc.BadRequest detail, as the services' own validation errors.
    /// </summary>
    public static Task WriteAsync(HttpResponse response, StatusCode code, string detail, IReadOnlyCollection<(string Field, string Description)> errors)
    {
        var problem = Problem(code, detail, HttpStatusFor(code));
        if (errors.Count > 0)
        {
            problem["errors"] = new JsonArray(errors.Select(e => (JsonNode)new JsonObject { ["field"] = e.Field, ["description"] = e.Description }).ToArray());
            problem["details"] = new JsonArray(new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.BadRequest",
                ["fieldViolations"] = new JsonArray(errors.Select(e => (JsonNode)new JsonObject { ["field"] = e.Field, ["description"] = e.Description }).ToArray()),
            });
        }
        return WriteAsync(response, problem);
    }

    private static readonly Google.Protobuf.JsonFormatter StatusFormatter = new(Google.Protobuf.JsonFormatter.Settings.Default
        .WithTypeRegistry(Google.Protobuf.Reflection.TypeRegistry.FromFiles(Google.Rpc.ErrorDetailsReflection.Descriptor)));

    /// <summary>
    /// Writes a google.rpc.Status as problem details, exactly as a transcoded call's error is written:
    /// for hand-written HTTP routes that call an application class (e.g. Onboarding's raw license route).
    /// </summary>
    public static Task WriteAsync(HttpResponse response, Google.Rpc.Status status)
    {
        var json = (JsonObject)JsonNode.Parse(StatusFormatter.Format(status))!;
        json["code"] = status.Code;
        return WriteAsync(response, ToProblem(json, HttpStatusFor((StatusCode)status.Code)));
    }

    /// <summary>
    /// A hand-written route's failure as the problem details a gRPC call would get: an RpcException
    /// keeps its status; any other exception is mapped as the gRPC interceptor maps it, and an
    /// unexpected one (INTERNAL) is logged.
    /// </summary>
    public static Task WriteAsync(HttpResponse response, Exception error, ILogger logger, string what)
    {
        if (error is RpcException rpc)
            return WriteAsync(response, rpc.GetRpcStatus() ?? new Google.Rpc.Status { Code = (int)rpc.StatusCode, Message = rpc.Status.Detail });
        var status = DomainExceptionInterceptor.ToStatus(error);
        if (status.Code == (int)StatusCode.Internal) logger.LogError(error, "Unhandled error in {What} over HTTP", what);
        return WriteAsync(response, status);
    }

    private static async Task WriteAsync(HttpResponse response, JsonObject problem)
    {
        response.StatusCode = (int)problem["status"]!;
        response.ContentType = ContentType;
        response.ContentLength = null;
        await response.WriteAsync(problem.ToJsonString(), response.HttpContext.RequestAborted);
    }

    private static JsonObject? TryReadStatus(byte[] body)
    {
        try
        {
            return body.Length > 0 && JsonNode.Parse(body) is JsonObject o && o["code"] is JsonValue ? o : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonObject ToProblem(JsonObject status, int httpStatus)
    {
        var code = (StatusCode)(int)status["code"]!;
        var problem = Problem(code, (string?)status["message"] ?? "", httpStatus);
        if (status["details"] is not JsonArray details || details.Count == 0) return problem;

        var errors = new JsonArray();
        foreach (var detail in details.OfType<JsonObject>())
        {
            switch ((string?)detail["@type"])
            {
                case "type.googleapis.com/google.rpc.BadRequest" when detail["fieldViolations"] is JsonArray violations:
                    foreach (var v in violations.OfType<JsonObject>())
                        errors.Add(new JsonObject { ["field"] = (string?)v["field"], ["description"] = (string?)v["description"] });
                    break;
                case "type.googleapis.com/google.rpc.ErrorInfo":
                    problem["reason"] = (string?)detail["reason"];
                    break;
            }
        }
        if (errors.Count > 0) problem["errors"] = errors;
        problem["details"] = details.DeepClone();
        return problem;
    }

    private static JsonObject Problem(StatusCode code, string detail, int httpStatus)
    {
        var name = GrpcStatusName(code);
        return new JsonObject
        {
            ["type"] = $"urn:faceid:grpc-status:{name}",
            ["title"] = Title(name),
            ["status"] = httpStatus,
            ["detail"] = detail,
            ["grpcStatus"] = name,
            ["grpcCode"] = (int)code,
        };
    }

    /// <summary>INVALID_ARGUMENT → "Invalid argument".</summary>
    private static string Title(string grpcStatusName)
    {
        var words = grpcStatusName.Replace('_', ' ').ToLowerInvariant();
        return char.ToUpperInvariant(words[0]) + words[1..];
    }

    /// <summary>OK → "OK", InvalidArgument → "INVALID_ARGUMENT": the names of the gRPC spec.</summary>
    public static string GrpcStatusName(StatusCode code) =>
        string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();

    /// <summary>The HTTP status grpc-gateway and grpc-dotnet transcoding use for a gRPC status.</summary>
    public static int HttpStatusFor(StatusCode code) => code switch
    {
        StatusCode.OK => 200,
        StatusCode.Cancelled => 499,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => 400,
        StatusCode.DeadlineExceeded => 504,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.PermissionDenied => 403,
        StatusCode.Unauthenticated => 401,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        _ => 500,
    };
}
