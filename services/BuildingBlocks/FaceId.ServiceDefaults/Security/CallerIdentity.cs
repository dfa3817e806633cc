using System.Security.Claims;
using FaceId.Auth;

namespace FaceId.ServiceDefaults.Security;

/// <summary>The authenticated caller of a request, as the authorization interceptor sees it.</summary>
public sealed record CallerIdentity(string Subject, IReadOnlySet<string> Roles, string? Account)
{
    public static CallerIdentity From(ClaimsPrincipal user) => new(
        user.FindFirst(ClaimNames.Subject)?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? "",
        user.FindAll(ClaimNames.Role).Concat(user.FindAll(ClaimTypes.Role)).Select(c => c.Value).ToHashSet(),
        user.FindFirst(ClaimNames.Account)?.Value);

    /// <summary>True when one of the caller's roles may act on any account.</summary>
    public bool Unbound(IEnumerable<string> allowed) => allowed.Any(r => Roles.Contains(r) && !FaceId.Auth.Roles.IsAccountBound(r));
}
