using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace FaceId.TestKit;

/// <summary>
/// A whole local platform for end-to-end tests (the CLI, HTTP/JSON): a real redis-server and the
/// five services as OS processes on free loopback ports (gRPC and HTTP/1.1), Redis Streams transport
/// with fast event-bus timings. Tests isolate themselves with their own accounts. Use it as an xunit
/// collection fixture (it implements Xunit.IAsyncLifetime).
/// </summary>
public class LocalPlatform : Xunit.IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    /// <summary>The five services by project name, in the order they are listed in the solution.</summary>
    public static readonly IReadOnlyList<string> Projects = ["FaceId.Onboarding", "FaceId.Packages", "FaceId.Metering", "FaceId.Billing", "FaceId.Refund"];

    private readonly string _data = Path.Combine(Path.GetTempPath(), TestIds.New("faceid-platform"));
    private readonly Dictionary<string, ServiceProcess> _services = [];
    private RedisServer? _redis;

    /// <summary>The running process of a service, by project name (e.g. "FaceId.Billing").</summary>
    public ServiceProcess this[string project] => _services[project];

    public ServiceProcess Onboarding => _services["FaceId.Onboarding"];
    public ServiceProcess Packages => _services["FaceId.Packages"];
    public ServiceProcess Metering => _services["FaceId.Metering"];
    public ServiceProcess Billing => _services["FaceId.Billing"];
    public ServiceProcess Refund => _services["FaceId.Refund"];

    /// <summary>Extra environment for every service (e.g. <c>RateLimits__PermitsPerMinute</c>).</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("The platform is not started.");

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
        foreach (var (key, value) in Settings) env[key] = value;
        var starts = Projects.ToDictionary(p => p, p => ServiceProcess.StartAsync(ServiceProcess.FindServiceDll(p), env, StartTimeout));
        try
        {
            await Task.WhenAll(starts.Values);
        }
        finally
        {
            foreach (var (project, start) in starts)
                if (start.IsCompletedSuccessfully) _services[project] = start.Result;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services.Values) await service.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A main account (Onboarding RPC) with a submitted, not yet reviewed application.</summary>
    public Task<(string AccountId, string ApplicationId)> AccountWithApplicationAsync() => Onboard.AccountWithApplicationAsync(Onboarding.Channel);

    /// <summary>An account whose application was approved (Onboarding RPC), with its activation consumed everywhere.</summary>
    public async Task<string> OpenedAccountAsync()
    {
        var accountId = await Onboard.OpenServiceAsync(Onboarding.Channel);
        await WaitUntilOpenedEverywhereAsync(accountId);
        return accountId;
    }

    /// <summary>
    /// A sub-account of <paramref name="mainAccountId"/> (Onboarding RPC), returned once Packages calls it
    /// a sub-account: Metering resolves the payer through Packages' records, so a call recorded
    /// earlier would be refused as an unknown account.
    /// </summary>
    public async Task<string> SubAccountAsync(string mainAccountId, string displayName = "Branch office")
    {
        var sub = await new OnboardingService.OnboardingServiceClient(Onboarding.Channel).CreateSubAccountAsync(
            new CreateSubAccountRequest { IdempotencyKey = TestIds.New("sub"), MainAccountId = mainAccountId, DisplayName = displayName });
        await WaitUntilSubAccountRegisteredAsync(sub.AccountId);
        return sub.AccountId;
    }

    /// <summary>Waits until Packages calls <paramref name="subAccountId"/> a sub-account, so Metering charges its calls to the main account.</summary>
    public async Task WaitUntilSubAccountRegisteredAsync(string subAccountId)
    {
        var packages = new PackagesService.PackagesServiceClient(Packages.Channel);
        await Eventually.AssertAsync(async () =>
        {
            try
            {
                await packages.ListPackagesAsync(new ListPackagesRequest { AccountId = subAccountId });
                return false;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                return true; // a sub-account holds no packages of its own (R-ACC-1)
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return false;
            }
        }, Timeout, $"Packages registered the sub-account {subAccountId}");
    }

    /// <summary>
    /// Waits until every service has consumed the activation of <paramref name="accountId"/>: its six
    /// trial packages are listed (R-ONB-3) and Billing knows the account.
    /// </summary>
    public async Task WaitUntilOpenedEverywhereAsync(string accountId)
    {
        var packages = new PackagesService.PackagesServiceClient(Packages.Channel);
        await Eventually.AssertAsync(async () =>
            (await packages.ListPackagesAsync(new ListPackagesRequest { AccountId = accountId })).Packages.Count == 6,
            Timeout, $"the six trial packages of {accountId} are listed");
        var billing = new BillingService.BillingServiceClient(Billing.Channel);
        await Eventually.AssertAsync(async () =>
        {
            try
            {
                await billing.GetBalanceAsync(new GetBalanceRequest { AccountId = accountId });
                return true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return false;
            }
        }, Timeout, $"Billing knows the opened account {accountId}");
    }
    /// <summary>
    /// A real bill of today's period of a daily account, although the period ends tonight: settled by
    /// Billing's code in this process (<typeparamref name="TBillingService"/>: its gRPC service class)
    /// on a clock set to tomorrow, on this platform's Redis, with its scheduler off (it settles nothing
    /// else). Tests then read the bill from the running Billing service.
    /// </summary>
    public async Task<Bill> SettleTodayAsync<TBillingService>(string accountId) where TBillingService : class
    {
        await using var billing = new InProcessService<TBillingService>(
            new Dictionary<string, string?>
            {
                ["Redis:ConnectionString"] = Redis.ConnectionString, ["EventBus:OutboxRelayEnabled"] = "false", ["Billing:SchedulerEnabled"] = "false",
            },
            services => services.AddSingleton<TimeProvider>(new TomorrowClock())).Start();
        return await new BillingService.BillingServiceClient(billing.Channel).SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = TestIds.New("settle"), AccountId = accountId, PeriodInstant = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });
    }

    private sealed class TomorrowClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddDays(1);
    }
}
