using System.Threading.RateLimiting;
using FaceId.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using FaceId.ServiceDefaults.HttpJson;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FaceId.ServiceDefaults.Security;

/// <summary>
/// Per-caller rate limits on the expensive and public-facing methods: a token bucket per
/// token subject for console, sub-account, reviewer and operator callers (services and the gateway are not limited), declared on a method with <c>[EnableRateLimiting(RateLimits.PerCaller)]</c>.
/// Over the limit a gRPC call ends with RESOURCE_EXHAUSTED (a gRPC status, not HTTP 429, which gRPC
/// clients would read as UNAVAILABLE); an HTTP/JSON call gets 429 with problem details. Configuration: RateLimits:PermitsPerMinute (default 600).
/// </summary>
public static class RateLimits
{
    public const string PerCaller = "per-caller";

    public static IServiceCollection AddFaceIdRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var permits = Math.Max(1, configuration.GetValue("RateLimits:PermitsPerMinute", 600));
        services.AddRateLimiter(o =>
        {
            // Internal callers (other services, the verification gateway) are trusted and sized by capacity
            // planning, not throttled; every other caller gets its own bucket.
            o.AddPolicy(PerCaller, http => http.User.HasClaim(ClaimNames.Role, Roles.Service) || http.User.HasClaim(ClaimNames.Role, Roles.Gateway)
                ? RateLimitPartition.GetNoLimiter("internal")
                : RateLimitPartition.GetTokenBucketLimiter(
                http.User.FindFirst(ClaimNames.Subject)?.Value ?? "anonymous",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = permits,
                    TokensPerPeriod = permits,
                    ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            o.OnRejected = (context, _) =>
            {
                var response = context.HttpContext.Response;
                if (context.HttpContext.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) != true)
                    return new ValueTask(ProblemDetailsMiddleware.WriteAsync(response, Grpc.Core.StatusCode.ResourceExhausted, "Too many calls from this caller; retry later."));
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = "application/grpc";
                response.Headers["grpc-status"] = "8"; // RESOURCE_EXHAUSTED
                response.Headers["grpc-message"] = "Too many calls from this caller; retry later.";
                return ValueTask.CompletedTask;
            };
        });
        return services;
    }
}
