using FaceId.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace FaceId.ServiceDefaults.Security;

public static class SecurityExtensions
{
    /// <summary>JWT bearer authentication (HS256 key or an authority's JWKS) and the authorization interceptor's dependencies.</summary>
    public static IServiceCollection AddFaceIdSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt => ConfigureBearer(jwt, options));
        services.AddSingleton<AccountOwnership>();
        services.AddSingleton<HttpCallerCheck>();
        services.AddFaceIdRateLimits(configuration);
        return services;
    }

    /// <summary>
    /// How a bearer token is validated: issuer, audience, role and subject claims, and the HS256 key or
    /// the authority's JWKS. The services and the web console (a pasted token) share it.
    /// </summary>
    public static void ConfigureBearer(JwtBearerOptions jwt, AuthOptions options)
    {
        jwt.MapInboundClaims = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            RoleClaimType = ClaimNames.Role,
            NameClaimType = ClaimNames.Subject,
            ClockSkew = TimeSpan.FromMinutes(1),
        };
        if (options.Authority.Length > 0) jwt.Authority = options.Authority;
        else if (TryKey(options.SigningKey) is { } key) jwt.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(key);
    }

    public static WebApplication UseFaceIdSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseRateLimiter();
        return app;
    }

    private static byte[]? TryKey(string base64)
    {
        try { return Convert.FromBase64String(base64); }
        catch (FormatException) { return null; }
    }
}
