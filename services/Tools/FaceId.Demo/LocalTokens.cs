using FaceId.Auth;

namespace FaceId.Demo;

/// <summary>
/// `./faceid token ROLE [--account ID]`: a bearer token for a person on the local run, signed with
/// the run's key (Auth__SigningKey, from .run/auth.key). Prints the token alone on stdout.
/// </summary>
public static class LocalTokens
{
    public const string Usage = "usage: ./faceid token <role> [--account ID] [--subject NAME] [--hours 12]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? role = null, account = null, subject = null;
        var hours = 12.0;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--account" when value is not null: account = value; i++; break;
                case "--subject" when value is not null: subject = value; i++; break;
                case "--hours" when double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out hours) && hours > 0 && hours <= 24 * 30: i++; break;
                case "--hours":
                    return Fail(stderr, "--hours takes a number of hours between 0 and 720");
                case var a when !a.StartsWith('-') && role is null: role = a; break;
                default: return Fail(stderr, $"unexpected argument '{args[i]}'");
            }
        }
        if (role is null) return Fail(stderr, $"a role is required: one of {string.Join(", ", Roles.All)}");
        if (!Roles.All.Contains(role)) return Fail(stderr, $"unknown role '{role}': one of {string.Join(", ", Roles.All)}");
        if (Roles.IsAccountBound(role) && string.IsNullOrWhiteSpace(account))
            return Fail(stderr, $"the {role} role is bound to one account: add --account ID");
        if (!Roles.IsAccountBound(role) && account is not null)
            return Fail(stderr, $"the {role} role is not bound to an account: drop --account");
        var key = Environment.GetEnvironmentVariable("Auth__SigningKey");
        if (string.IsNullOrEmpty(key)) return Fail(stderr, "no signing key: start the platform with ./faceid run first (it creates .run/auth.key)");
        var token = new TokenMinter(key).Mint(subject ?? $"local-{role}", [role], account, TimeSpan.FromHours(hours));
        stdout.WriteLine(token);
        return 0;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine($"faceid token: {message}");
        stderr.WriteLine(Usage);
        return 2;
    }
}
