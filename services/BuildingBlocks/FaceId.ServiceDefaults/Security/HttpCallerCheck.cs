using FaceId.ServiceDefaults.HttpJson;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FaceId.ServiceDefaults.Security;

/// <summary>
/// <see cref="AuthorizationInterceptor"/>'s rule for plain HTTP endpoints that serve a gRPC method's
/// data without transcoding (e.g. Billing's file exports): the same checks, through
/// <see cref="AuthorizationInterceptor.AuthorizeAsync"/>, after the request's string bounds
/// (<see cref="RequestBounds"/>), with a refusal written as the problem details a transcoded call gets
/// (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 ROLE_NOT_ALLOWED or ACCOUNT_NOT_IN_SCOPE).
/// </summary>
public sealed class HttpCallerCheck(AccountOwnership ownership, ILogger<AuthorizationInterceptor> logger)
{
    private readonly AuthorizationInterceptor _rules = new(ownership, logger);

    /// <summary>True when the caller may go on; otherwise the refusal has been written to the response.</summary>
    public async Task<bool> AllowAsync(HttpContext http, AllowAttribute allow, IMessage request, string method)
    {
        // The gRPC pipeline's first check, first here too (RequestBoundsInterceptor).
        if (RequestBounds.Check(request) is { } overLong)
        {
            await ProblemDetailsMiddleware.WriteAsync(http.Response, DomainExceptionInterceptor.ToStatus(overLong));
            return false;
        }
        try
        {
            await _rules.AuthorizeAsync(http, method, allow, request);
            return true;
        }
        catch (RpcException e)
        {
            await ProblemDetailsMiddleware.WriteAsync(http.Response, e.GetRpcStatus() ?? new Google.Rpc.Status { Code = (int)e.StatusCode, Message = e.Status.Detail });
            return false;
        }
    }
}
