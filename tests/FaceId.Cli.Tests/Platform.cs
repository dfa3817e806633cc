using System.Text;
using FaceId.Cli;
using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using Google.Protobuf;
using Grpc.Net.Client;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>
/// One local platform for every CLI test: a real redis-server and the five services as OS processes
/// on free ports (Redis Streams transport, fast event-bus timings). Tests isolate themselves with
/// their own accounts.
/// </summary>
public sealed class PlatformFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    private readonly string _data = Path.Combine(Path.GetTempPath(), TestIds.New("faceidctl-tests"));
    private RedisServer? _redis;
    private readonly Dictionary<PlatformService, ServiceProcess> _services = [];

    public ServiceProcess this[PlatformService service] => _services[service];

    public GrpcChannel Onboarding => _services[PlatformService.Onboarding].Channel;

    /// <summary>
    /// The options that point the CLI at this platform (global options: they may follow the
    /// command): a port per service, and the TestKit's operator token (the services of this test run
    /// check tokens signed with its key once authentication is wired).
    /// </summary>
    public IReadOnlyList<string> ConnectionArgs => _services
        .SelectMany(s => new[] { $"--{Endpoints.NameOf(s.Key)}-port", s.Value.GrpcPort.ToString() })
        .Concat(["--token", TestAuth.OperatorToken])
        .ToList();

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        var env = new Dictionary<string, string?>
        {
            ["Redis__ConnectionString"] = _redis.ConnectionString,
            ["EventBus__ProcessingTimeoutMs"] = "2000",
            ["EventBus__RedeliverIntervalMs"] = "200",
            ["EventBus__MaxPollDelayMs"] = "20",
            ["EventBus__OutboxSweepIntervalMs"] = "200",
            ["Documents__Directory"] = Path.Combine(_data, "documents"),
            ["Notifications__SinkDirectory"] = Path.Combine(_data, "notifications"),
        };
        var projects = new Dictionary<PlatformService, string>
        {
            [PlatformService.Onboarding] = "FaceId.Onboarding",
            [PlatformService.Packages] = "FaceId.Packages",
            [PlatformService.Metering] = "FaceId.Metering",
            [PlatformService.Billing] = "FaceId.Billing",
            [PlatformService.Refund] = "FaceId.Refund",
        };
        var starts = projects.ToDictionary(p => p.Key, p => ServiceProcess.StartAsync(ServiceProcess.FindServiceDll(p.Value), env, StartTimeout));
        try
        {
            await Task.WhenAll(starts.Values);
        }
        finally
        {
            foreach (var (service, start) in starts)
                if (start.IsCompletedSuccessfully) _services[service] = start.Result;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services.Values) await service.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Runs faceidctl in process against this platform.</summary>
    public Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync([.. args, .. ConnectionArgs]);

    /// <summary>A main account (Onboarding RPC) with a submitted, not yet reviewed application.</summary>
    public async Task<(string AccountId, string ApplicationId)> AccountWithApplicationAsync()
    {
        var client = new OnboardingService.OnboardingServiceClient(Onboarding);
        var contacts = new Contacts { Email = "ops@example.com", Mobile = "13800138000", Name = "Han Meimei" };
        var account = await client.CreateAccountAsync(new CreateAccountRequest
        {
            IdempotencyKey = TestIds.New("acct-key"),
            DisplayName = "CLI Test Co.",
            Contacts = contacts,
        });
        using var upload = client.SubmitApplication();
        await upload.RequestStream.WriteAsync(new SubmitApplicationChunk
        {
            Form = new ApplicationForm
            {
                IdempotencyKey = TestIds.New("app-key"),
                AccountId = account.AccountId,
                BusinessScenario = "Remote account opening",
                Contact = contacts,
                LicenseFileName = "license.png",
            },
        });
        await upload.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = ByteString.CopyFrom(Png) });
        await upload.RequestStream.CompleteAsync();
        var application = await upload;
        return (account.AccountId, application.ApplicationId);
    }

    /// <summary>An account whose application was approved through the CLI, with its six trial packages delivered.</summary>
    public async Task<string> OpenedAccountAsync()
    {
        var (accountId, applicationId) = await AccountWithApplicationAsync();
        var approve = await RunAsync("applications", "approve", applicationId, "--reviewer", "ops-1");
        approve.AssertExit(ExitCodes.Ok);
        await Eventually.AssertAsync(async () =>
            {
                var list = await RunAsync("packages", "list", "--account", accountId, "--json");
                return list.ExitCode == 0 && list.Json<Contracts.Packages.V1.ListPackagesResponse>().Packages.Count == 6;
            }, Timeout, $"the six trial packages of {accountId} are listed");
        return accountId;
    }

    /// <summary>A 1×1 PNG standing in for a business license.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
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
