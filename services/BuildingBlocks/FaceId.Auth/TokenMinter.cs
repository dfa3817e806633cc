using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FaceId.Auth;

/// <summary>
/// Mints HS256 JWTs for the platform's callers: the local run, the tools and the tests. The key
/// comes from configuration (Auth:SigningKey, base64, at least 32 bytes) — never from the repo.
/// </summary>
public sealed class TokenMinter(string signingKeyBase64, string issuer = TokenMinter.DefaultIssuer, string audience = TokenMinter.DefaultAudience)
{
    public const string DefaultIssuer = "faceid";
    public const string DefaultAudience = "faceid-platform";

    private readonly SigningCredentials _credentials = new(new SymmetricSecurityKey(Convert.FromBase64String(signingKeyBase64)), SecurityAlgorithms.HmacSha256);

    /// <summary>A fresh random signing key (base64), e.g. for a local run or a test.</summary>
    public static string NewKey() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public string Mint(string subject, IEnumerable<string> roles, string? account = null, TimeSpan? lifetime = null)
    {
        var claims = new List<Claim> { new(ClaimNames.Subject, subject) };
        claims.AddRange(roles.Select(r => new Claim(ClaimNames.Role, r)));
        if (account is not null) claims.Add(new Claim(ClaimNames.Account, account));
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now + (lifetime ?? TimeSpan.FromHours(12)),
            SigningCredentials = _credentials,
        });
    }
}
