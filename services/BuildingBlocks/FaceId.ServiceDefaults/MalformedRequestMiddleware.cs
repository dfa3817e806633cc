using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FaceId.ServiceDefaults;

/// <summary>
/// A request body that is not a valid protobuf message fails inside grpc-dotnet before any
/// interceptor runs, and would reach the client as UNKNOWN ("Exception was thrown by handler").
/// Every handler exception is mapped by <see cref="DomainExceptionInterceptor"/>, so such an
/// answer can only mean the request could not be read: it is rewritten to INVALID_ARGUMENT.
/// </summary>
public static class MalformedRequestMiddleware
{
    private const string GrpcUnknown = "2";

    public static IApplicationBuilder UseMalformedRequestAsInvalidArgument(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        await next(http);
        if (http.Response.HasStarted || !http.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true) return;
        if (http.Response.Headers["grpc-status"] == GrpcUnknown)
        {
            http.Response.Headers["grpc-status"] = "3";
            http.Response.Headers["grpc-message"] = "The request is not a valid protobuf message of the method's type.";
        }
    });
}
