using System.Security.Claims;
using FaceId.Auth;
using FaceId.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace FaceId.Console.SignIn;

/// <summary>
/// Sign-in (docs/console.md): the user's bearer token lives in the encrypted, HTTP-only auth cookie
/// (never in a URL) and is forwarded on every gRPC call. A pasted token is validated exactly as the
/// services validate bearer tokens (<see cref="SecurityExtensions.ConfigureBearer"/>); the development
/// sign-in mints one with the configured key and exists only when Auth:SigningKey is set.
/// </summary>
public static class ConsoleSignIn
{
    /// <summary>The JWT bearer scheme whose options validate pasted tokens (never used to authenticate requests).</summary>
    public const string TokenScheme = "FaceIdToken";

    /// <summary>The cookie claim carrying the raw bearer token.</summary>
    public const string TokenClaim = "faceid_token";

    public const string Path = "/signin";

    public static IServiceCollection AddConsoleSignIn(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = "faceid.console";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.LoginPath = Path;
                cookie.AccessDeniedPath = Path;
                cookie.SlidingExpiration = false;
            })
            .AddJwtBearer(TokenScheme, jwt => SecurityExtensions.ConfigureBearer(jwt, auth));
        // No anonymous page: every endpoint needs a signed-in user unless it says [AllowAnonymous].
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddCascadingAuthenticationState();
        services.AddSingleton(new DevelopmentSignIn(auth, configuration.GetValue(DevelopmentSignIn.SwitchKey, true)));
        return services;
    }

    public static WebApplication MapSignIn(this WebApplication app)
    {
        app.MapPost("/signin/token", async ([FromForm] string token, HttpContext http, IOptionsMonitor<JwtBearerOptions> jwt) =>
                await SignInAsync(http, jwt.Get(TokenScheme), token.Trim()))
            .AllowAnonymous();
        if (app.Services.GetRequiredService<DevelopmentSignIn>().Enabled)
            app.MapPost("/signin/development", async ([FromForm] string role, [FromForm] string? account, HttpContext http,
                    DevelopmentSignIn development, IOptionsMonitor<JwtBearerOptions> jwt) =>
                    development.Mint(role, account) is { } token
                        ? await SignInAsync(http, jwt.Get(TokenScheme), token)
                        : Results.Redirect($"{Path}?error=role"))
                .AllowAnonymous();
        app.MapPost("/signout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect(Path);
        });
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext http, JwtBearerOptions jwt, string token)
    {
        var parameters = jwt.TokenValidationParameters.Clone();
        if (jwt.ConfigurationManager is { } authority)
            parameters.IssuerSigningKeys = (await authority.GetConfigurationAsync(http.RequestAborted)).SigningKeys;
        var result = await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, parameters);
        if (!result.IsValid) return Results.Redirect($"{Path}?error=token");
        var claims = result.ClaimsIdentity.Claims
            .Where(c => c.Type is ClaimNames.Subject or ClaimNames.Role or ClaimNames.Account)
            .Append(new Claim(TokenClaim, token));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme, ClaimNames.Subject, ClaimNames.Role));
        var expires = ((JsonWebToken)result.SecurityToken).ValidTo;
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal,
            new AuthenticationProperties { ExpiresUtc = expires, IsPersistent = false });
        return Results.Redirect("/");
    }
}

/// <summary>The local run's sign-in: mints a token for a chosen role and account with the configured key.</summary>
public sealed class DevelopmentSignIn(AuthOptions auth, bool allowed = true)
{
    /// <summary>
    /// "false" turns the development sign-in off although the key is set: a deployment whose console
    /// must validate pasted tokens with the platform key but never mint them (deploy/k8s).
    /// </summary>
    public const string SwitchKey = "SignIn:Development";

    /// <summary>Only with a signing key of our own (Auth:SigningKey), never when an authority issues the tokens or SignIn:Development is false.</summary>
    public bool Enabled { get; } = allowed && auth.SigningKey.Length > 0 && auth.Authority.Length == 0;

    public string? Mint(string role, string? account)
    {
        if (!Enabled || !Roles.All.Contains(role)) return null;
        account = string.IsNullOrWhiteSpace(account) ? null : account.Trim();
        if (Roles.IsAccountBound(role) != (account is not null)) return null;
        return new TokenMinter(auth.SigningKey, auth.Issuer, auth.Audience).Mint($"console-{role}", [role], account, TimeSpan.FromHours(8));
    }
}
