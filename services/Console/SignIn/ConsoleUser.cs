using System.Security.Claims;
using FaceId.Auth;

namespace FaceId.Console.SignIn;

/// <summary>What the console reads from the signed-in user's cookie: roles, bound account, token.</summary>
public static class ConsoleUser
{
    public static string Token(this ClaimsPrincipal user) => user.FindFirst(ConsoleSignIn.TokenClaim)?.Value ?? "";

    public static string? Account(this ClaimsPrincipal user) => user.FindFirst(ClaimNames.Account)?.Value;

    public static string Subject(this ClaimsPrincipal user) => user.FindFirst(ClaimNames.Subject)?.Value ?? "";

    public static bool Has(this ClaimsPrincipal user, params string[] roles) => roles.Any(r => user.HasClaim(ClaimNames.Role, r));

    public static bool IsReviewer(this ClaimsPrincipal user) => user.Has(Roles.Reviewer, Roles.Operator);

    public static bool IsOperator(this ClaimsPrincipal user) => user.Has(Roles.Operator);

    public static bool IsCustomer(this ClaimsPrincipal user) => user.Has(Roles.Console, Roles.SubAccount);
}
