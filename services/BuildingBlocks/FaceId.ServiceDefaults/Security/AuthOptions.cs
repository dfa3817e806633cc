using System.ComponentModel.DataAnnotations;
using FaceId.Auth;

namespace FaceId.ServiceDefaults.Security;

/// <summary>Configuration section "Auth": how tokens are checked. Secrets come from the environment, never the repo.</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";

    /// <summary>HS256 key, base64, at least 32 bytes (environment variable Auth__SigningKey).</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>Or an OpenID Connect authority whose JWKS signs the tokens.</summary>
    public string Authority { get; set; } = "";

    public string Issuer { get; set; } = TokenMinter.DefaultIssuer;
    public string Audience { get; set; } = TokenMinter.DefaultAudience;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Authority.Length > 0) yield break;
        byte[]? key = null;
        try { key = Convert.FromBase64String(SigningKey); }
        catch (FormatException) { }
        if (key is null || key.Length < 32)
            yield return new ValidationResult("Auth:SigningKey (environment variable Auth__SigningKey) must be a base64 key of at least 32 bytes, or set Auth:Authority", [nameof(SigningKey)]);
    }
}
