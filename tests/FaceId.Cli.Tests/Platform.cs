using FaceId.Auth;
using System.Text;
using FaceId.Cli;
using FaceId.TestKit;
using Google.Protobuf;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>
/// One local platform (TestKit's <see cref="LocalPlatform"/>: redis-server and the five services as
/// OS processes) for every CLI test, and faceidctl pointed at it.
/// </summary>
public sealed class PlatformFixture : LocalPlatform
{
    public ServiceProcess this[PlatformService service] => this[$"FaceId.{service}"];

    /// <summary>Webhooks may reach the tests' loopback receiver.</summary>
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Webhooks__AllowedNetworks__0"] = "127.0.0.0/8",
        ["Webhooks__RetryDelaysMs__0"] = "200",
    };

    /// <summary>
    /// The options that point the CLI at this platform (global options: they may follow the
    /// command): a port per service, and the TestKit's operator token.
    /// </summary>
    public IReadOnlyList<string> ConnectionArgs => Enum.GetValues<PlatformService>()
        .SelectMany(s => new[] { $"--{Endpoints.NameOf(s)}-port", this[s].GrpcPort.ToString() })
        .Concat(["--token", TestAuth.OperatorToken])
        .ToList();

    /// <summary>Runs faceidctl in process against this platform.</summary>
    public Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync([.. args, .. ConnectionArgs]);

    /// <summary>Runs faceidctl with a token of the operator role (the methods for console front ends, e.g. webhooks).</summary>
    public Task<CliResult> RunAsOperatorAsync(params string[] args) =>
        Cli.RunAsync([.. args, .. ConnectionArgs.SkipLast(2), "--token", TestAuth.Token(Roles.Operator)]);

    /// <summary>An account whose application was approved through the CLI, with its six trial packages delivered.</summary>
    public new async Task<string> OpenedAccountAsync()
    {
        var (accountId, applicationId) = await AccountWithApplicationAsync();
        var approve = await RunAsync("applications", "approve", applicationId, "--reviewer", "ops-1");
        approve.AssertExit(ExitCodes.Ok);
        await WaitUntilOpenedEverywhereAsync(accountId);
        return accountId;
    }
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "local platform";
}

/// <summary>What one faceidctl run printed and returned.</summary>
public sealed record CliResult(string[] Args, int ExitCode, string Out, string Err)
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public T Json<T>() where T : IMessage<T>, new() => Parser.Parse<T>(Out);

    public CliResult AssertExit(int expected)
    {
        if (ExitCode != expected)
            throw new Xunit.Sdk.XunitException($"faceidctl {CommandLine}{Environment.NewLine}exit code {ExitCode}, expected {expected}.{Environment.NewLine}{this}");
        return this;
    }

    /// <summary>The arguments as typed, the token masked.</summary>
    public string CommandLine => string.Join(' ', Args.Select((a, i) => i > 0 && Args[i - 1] == "--token" ? "***" : a));

    public override string ToString() => $"--- stdout ---{Environment.NewLine}{Out}--- stderr ---{Environment.NewLine}{Err}";
}

public static class Cli
{
    /// <summary>Calls the CLI's entry point with captured output, as a shell would run it.</summary>
    public static async Task<CliResult> RunAsync(string[] args, CancellationToken cancellation = default)
    {
        var output = new StringWriter(new StringBuilder());
        var error = new StringWriter(new StringBuilder());
        var code = await CliApp.RunAsync(args, output, error, cancellation);
        return new CliResult(args, code, output.ToString(), error.ToString());
    }
}
