using FaceId.Auth;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.TestKit;

/// <summary>
/// Tokens for tests (docs/api.md, "Authentication"). Every service a test starts gets one random signing key per test
/// run (Auth:SigningKey); the TestKit's channels carry a token of every unbound role unless a test
/// asks for another caller with <see cref="WithToken"/>.
/// </summary>
public static class TestAuth
{
    public static readonly string SigningKey = TokenMinter.NewKey();
    public static readonly TokenMinter Minter = new(SigningKey);

    /// <summary>A caller in every role that is not bound to an account (gateway, reviewer, operator, service).</summary>
    public static readonly string OperatorToken = Minter.Mint("test-operator", [Roles.Gateway, Roles.Reviewer, Roles.BillingOperator, Roles.Service]);

    public static string Token(string role, string? account = null) => Minter.Mint("test-" + role, [role], account);

    /// <summary>Call credentials adding the bearer token (allowed on plaintext loopback channels for tests).</summary>
    public static ChannelCredentials Credentials(string token) =>
        ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
        {
            if (token.Length > 0) metadata.Add("Authorization", "Bearer " + token);
            return Task.CompletedTask;
        }));

    /// <summary>Channel options carrying <paramref name="token"/> (empty: no token at all).</summary>
    public static GrpcChannelOptions WithToken(this GrpcChannelOptions options, string token)
    {
        options.Credentials = Credentials(token);
        options.UnsafeUseInsecureChannelCallCredentials = true;
        return options;
    }
}
