using FaceId.Auth;
using FaceId.ServiceDefaults.HttpJson;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FaceId.ServiceDefaults.Security;

/// <summary>
/// The rule of <see cref="AuthorizationInterceptor"/> for plain HTTP endpoints that are not transcoded
/// gRPC calls (e.g. Billing's file exports): authenticated (401 UNAUTHENTICATED), in a role the
/// <see cref="AllowAttribute"/> names (403 ROLE_NOT_ALLOWED), and an account-bound caller only on its
/// own account or its sub-accounts (403 ACCOUNT_NOT_IN_SCOPE). A refusal is written as the same
/// problem details a transcoded call gets; the endpoint then stops.
/// </summary>
public sealed class HttpCallerCheck(AccountOwnership ownership, ILogger<HttpCallerCheck> logger)
{
    /// <summary>True when the caller may go on; otherwise the refusal has been written to the response.</summary>
    public async Task<bool> AllowAsync(HttpContext http, AllowAttribute allow, string account, string method)
    {
        if (http.User.Identity?.IsAuthenticated != true)
        {
            await RefuseAsync(http, StatusCode.Unauthenticated, "UNAUTHENTICATED", "A valid bearer token is required.");
            return false;
        }
        var caller = CallerIdentity.From(http.User);
        if (!allow.Roles.Any(caller.Roles.Contains))
        {
            logger.LogWarning("Denied {Method} to {Subject}: role not allowed", method, caller.Subject);
            var allowed = string.Join(", ", allow.Roles);
            await RefuseAsync(http, StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED",
                $"The caller's role may not call this method; allowed roles: {allowed}.", new() { ["allowed_roles"] = allowed });
            return false;
        }
        if (caller.Unbound(allow.Roles) || allow.AccountField is null || account.Length == 0) return true;
        if (caller.Account is not null && await ownership.OwnsAsync(caller.Account, account)) return true;
        // The other account's id is not logged: only who tried what.
        logger.LogWarning("Denied {Method} to {Subject}: account outside the caller's scope", method, caller.Subject);
        await RefuseAsync(http, StatusCode.PermissionDenied, "ACCOUNT_NOT_IN_SCOPE", "The caller may not act on this account.");
        return false;
    }

    private static Task RefuseAsync(HttpContext http, StatusCode code, string reason, string message, Dictionary<string, string>? metadata = null)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        var info = new ErrorInfo { Reason = reason, Domain = DomainExceptionInterceptor.ErrorDomain };
        if (metadata is not null) info.Metadata.Add(metadata);
        status.Details.Add(Any.Pack(info));
        return ProblemDetailsMiddleware.WriteAsync(http.Response, status);
    }
}
