using FaceId.Ledger.Tests;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;
using Xunit.Abstractions;
using Grpc.Core;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using PackageRecord = FaceId.Packages.Ledger.PackageRecord;

namespace FaceId.Reliability.Tests;

/// <summary>Redis with AOF and fsync on every write: what the local run and production use (docs/reliability.md).</summary>
public sealed class DurableRedisFixture : RedisFixture
{
    protected override string[] ExtraArgs => ["--appendonly", "yes", "--appendfsync", "always"];
}

/// <summary>
/// Faults 1, 2 and 10 (docs/reliability.md): SIGKILL of a Metering process and of redis-server in the middle of
/// a load whose clients retry with the same request ids. Afterwards nothing acknowledged is lost,
/// nothing is charged twice, no package is overdrawn and every charge reaches the bus.
/// </summary>
public sealed class CrashUnderLoadTests(DurableRedisFixture redis, ITestOutputHelper output) : IClassFixture<DurableRedisFixture>
{
    private static int Records => int.TryParse(Environment.GetEnvironmentVariable("FACEID_FAULT_RECORDS"), out var n) ? n : 6_000;
    private const string Label = "id_info_check";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    private Task<(LedgerHost Host, string Account, List<PackageRecord> Packages, UsageRecord[] Records)> PrepareAsync() => PrepareAsync(redis.ConnectionString);

    /// <summary>An opened account with <paramref name="packageCount"/> packages of 1,000 calls, and the records of the load (unique request ids, now).</summary>
    internal static async Task<(LedgerHost Host, string Account, List<PackageRecord> Packages, UsageRecord[] Records)> PrepareAsync(
        string redisConnection, int packageCount = 3, int? recordCount = null)
    {
        var host = new LedgerHost(redisConnection, DateTimeOffset.UtcNow);
        var account = await host.OpenedAccountAsync();
        var packages = new List<PackageRecord>();
        for (var i = 0; i < packageCount; i++) packages.Add(await host.BuyAsync(account, Label, 1000));
        var records = Enumerable.Range(0, recordCount ?? Records).Select(i => new UsageRecord
        {
            RequestId = $"{account}-{i}",
            AccountId = account,
            Label = Label,
            AccessMode = AccessMode.Paas,
            ReturnCode = "0",
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }).ToArray();
        return (host, account, packages, records);
    }

    private Dictionary<string, string?> ServiceEnvironment() => ServiceEnvironment(redis.ConnectionString);

    private static Dictionary<string, string?> ServiceEnvironment(string redisConnection) => new()
    {
        ["Redis__ConnectionString"] = redisConnection,
        ["EventBus__OutboxSweepIntervalMs"] = "200",
    };

    private async Task<string> RunIdAsync()
    {
        using var connection = redis.Server.Connect();
        var info = await connection.GetServer(redis.Server.ConnectionString).InfoAsync("server");
        return info.SelectMany(g => g).Single(kv => kv.Key == "run_id").Value;
    }

    [Fact]
    public async Task Fault_1_SIGKILL_of_a_metering_process_mid_load_loses_and_doubles_nothing()
    {
        var (host, account, packages, records) = await PrepareAsync();
        await using var _ = host;
        await using var a = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment());
        await using var b = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment());
        var driver = new LoadDriver([a.Channel, b.Channel], callers: 32, Bound);

        var outcomes = await driver.RunAsync(records, records.Length / 3, async () =>
        {
            a.Kill();
            await a.RestartAsync();
        });

        var report = await Invariants.CheckAsync(host, redis.Database, account, packages, records, outcomes, Label, TimeSpan.FromSeconds(30));
        output.WriteLine($"fault 1: {report} retries={driver.Retries} failures={string.Join(",", driver.Failures)}");
        Assert.Equal(3_000, report.PackageCalls);
    }

    [Fact]
    public async Task Fault_2_SIGKILL_of_redis_mid_load_and_restart_from_its_AOF_keeps_every_acknowledged_charge()
    {
        var (host, account, packages, records) = await PrepareAsync();
        await using var _ = host;
        await using var a = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment());
        await using var b = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment());
        var driver = new LoadDriver([a.Channel, b.Channel], callers: 32, Bound);

        var runIdBefore = await RunIdAsync();
        var acknowledgedAtFault = 0;
        var outcomes = await driver.RunAsync(records, records.Length / 3, async () =>
        {
            acknowledgedAtFault = driver.Acknowledged;
            await redis.Server.KillAsync();
            await redis.Server.RestartAsync();
        });

        var report = await Invariants.CheckAsync(host, redis.Database, account, packages, records, outcomes, Label, TimeSpan.FromSeconds(60));
        output.WriteLine($"fault 2: {report} acknowledged before the kill={acknowledgedAtFault} retries={driver.Retries} failures={string.Join(",", driver.Failures)}");
        Assert.Equal(3_000, report.PackageCalls);
        // The kill happened mid-load: a new server process (run id) served the rest. Callers retried what failed
        // with the same request ids; which statuses they may see (with a generous deadline) is fault 10's subject.
        Assert.NotEqual(runIdBefore, await RunIdAsync());
        Assert.InRange(acknowledgedAtFault, 1, records.Length - 1);
    }

    /// <summary>
    /// Fault 10: redis-server SIGKILLed under unary and batch load, left down until health was asked several
    /// times, then restarted from an AOF that takes seconds to load (LOADING). Callers see only OK or
    /// UNAVAILABLE (with retry advice; they retry with the same request ids), health answers within 1 s
    /// whatever Redis is doing, and afterwards every invariant holds: acknowledged calls kept, none doubled.
    /// </summary>
    [Fact]
    public async Task Fault_10_a_store_briefly_away_is_UNAVAILABLE_never_INTERNAL_and_health_answers_within_a_second()
    {
        // key-load-delay (µs per key) is redis-server's own knob for slow loading, and loading-process-events-interval-bytes
        // makes it answer clients (LOADING) while it loads: a long LOADING window without a large dataset.
        await using var server = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always",
            "--key-load-delay", "200", "--loading-process-events-interval-bytes", "1024");
        using var admin = server.Connect();
        await FillAofAsync(admin, server, keys: 10_000);
        var (host, account, packages, records) = await PrepareAsync(server.ConnectionString);
        await using var _ = host;
        await using var a = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment(server.ConnectionString));
        await using var b = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment(server.ConnectionString));
        // 4 of the 32 callers send batches of 50; a generous deadline, so a status seen is the service's answer, not the client's.
        var driver = new LoadDriver([a.Channel, b.Channel], callers: 32, Bound, batchCallers: 4, batchSize: 50, callDeadline: TimeSpan.FromSeconds(15));
        await using var health = HealthSampler.Start([a, b]);

        var acknowledgedAtFault = 0;
        var loading = TimeSpan.Zero;
        var outcomes = await driver.RunAsync(records, records.Length / 3, async () =>
        {
            acknowledgedAtFault = driver.Acknowledged;
            await server.KillAsync();
            health.Phase = "down";
            await Eventually.AssertAsync(() => health.Count("down") >= 20, TimeSpan.FromSeconds(30), "health asked while Redis is down");
            health.Phase = "loading";
            var restart = System.Diagnostics.Stopwatch.StartNew();
            await server.RestartAsync(); // returns once PING answers, i.e. when the AOF is loaded
            loading = restart.Elapsed;
            health.Phase = "back";
        });
        await Eventually.AssertAsync(() => health.Count("back") >= 2 && health.LastStatus == ServingStatus.Serving, TimeSpan.FromSeconds(30), "SERVING again after the restart");
        await health.DisposeAsync();

        var report = await Invariants.CheckAsync(host, admin.GetDatabase(), account, packages, records, outcomes, Label, TimeSpan.FromSeconds(60));
        output.WriteLine($"fault 10: {report} acknowledged before the kill={acknowledgedAtFault}; calls answered OK={driver.AnsweredOk}, " +
            $"failed={string.Join(",", driver.Failures.Select(f => $"{f.Key}:{f.Value}"))} (UNAVAILABLE by condition: {string.Join(",", driver.UnavailableConditions.Select(c => $"{c.Key}:{c.Value}"))}), " +
            $"slowest failed call {driver.SlowestFailure.TotalMilliseconds:F0} ms; redis-server took {loading.TotalMilliseconds:F0} ms to restart and load its AOF");
        output.WriteLine($"fault 10 health: {health.Describe()}");
        Assert.Equal(3_000, report.PackageCalls);
        Assert.InRange(acknowledgedAtFault, 1, records.Length - 1);
        Assert.All(driver.Failures.Keys, code => Assert.Equal(StatusCode.Unavailable, code)); // never INTERNAL, UNKNOWN or DEADLINE_EXCEEDED
        Assert.True(driver.Failures.GetValueOrDefault(StatusCode.Unavailable) > 0, "the outage was seen by callers");
        Assert.DoesNotContain("none", driver.UnavailableConditions.Keys); // every UNAVAILABLE names its store condition
        Assert.True(health.Count("down") > 0 && health.Count("loading") > 0, "health was asked while Redis was down and while it loaded");
        Assert.True(health.Slowest("down") < TimeSpan.FromSeconds(1) && health.Slowest("loading") < TimeSpan.FromSeconds(1), health.Describe());
        Assert.True(health.All("down", ServingStatus.NotServing), health.Describe());
        Assert.True(loading > TimeSpan.FromSeconds(1), $"the AOF loaded in {loading.TotalMilliseconds:F0} ms: too short to test LOADING");
    }

    /// <summary>Writes filler keys and rewrites the AOF, so a restart loads them (slowly, with key-load-delay).</summary>
    private static async Task FillAofAsync(StackExchange.Redis.IConnectionMultiplexer admin, RedisServer server, int keys)
    {
        var db = admin.GetDatabase();
        await Task.WhenAll(Enumerable.Range(0, keys).Select(i => db.StringSetAsync($"filler:{i}", "x")));
        var redis = admin.GetServer(server.ConnectionString);
        await redis.ExecuteAsync("BGREWRITEAOF");
        await Eventually.AssertAsync(async () =>
        {
            var info = (await redis.InfoAsync("persistence")).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
            return info["aof_rewrite_in_progress"] == "0" && info["aof_rewrite_scheduled"] == "0";
        }, TimeSpan.FromSeconds(30), "the AOF rewrite ends");
    }
}

/// <summary>Asks grpc.health.v1 of each process every 100 ms and keeps each answer's time and status under the current phase.</summary>
internal sealed class HealthSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Phase, ServingStatus? Status, TimeSpan Took)> _samples = new();
    private Task _loop = Task.CompletedTask;

    public volatile string Phase = "up";
    public ServingStatus? LastStatus { get; private set; }

    public static HealthSampler Start(IReadOnlyList<ServiceProcess> processes)
    {
        var sampler = new HealthSampler();
        sampler._loop = Task.WhenAll(processes.Select(sampler.SampleAsync));
        return sampler;
    }

    private async Task SampleAsync(ServiceProcess process)
    {
        var client = new Grpc.Health.V1.Health.HealthClient(process.Channel);
        using var period = new PeriodicTimer(TimeSpan.FromMilliseconds(100)); // a probe's period, as a kubelet would ask
        do
        {
            var phase = Phase;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            ServingStatus? status;
            try
            {
                status = (await client.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Status;
            }
            catch (RpcException)
            {
                status = null; // no answer at all: counted, and slower than any bound
            }
            _samples.Enqueue((phase, status, clock.Elapsed));
            LastStatus = status;
        }
        while (await NextProbeAsync(period));
    }

    private async Task<bool> NextProbeAsync(PeriodicTimer period)
    {
        try { return await period.WaitForNextTickAsync(_stop.Token); }
        catch (OperationCanceledException) { return false; }
    }

    public int Count(string phase) => _samples.Count(s => s.Phase == phase);

    public TimeSpan Slowest(string phase) => _samples.Where(s => s.Phase == phase).Select(s => s.Took).DefaultIfEmpty().Max();

    public bool All(string phase, ServingStatus status) => _samples.Where(s => s.Phase == phase).All(s => s.Status == status);

    public string Describe() => string.Join("; ", _samples.GroupBy(s => s.Phase).Select(g =>
    {
        var ms = g.Select(s => s.Took.TotalMilliseconds).Order().ToList();
        var statuses = string.Join(",", g.GroupBy(s => s.Status?.ToString() ?? "no answer").Select(x => $"{x.Key}:{x.Count()}"));
        return $"{g.Key}: {g.Count()} checks ({statuses}), median {ms[ms.Count / 2]:F0} ms, max {ms[^1]:F0} ms";
    }));

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        await _loop;
    }
}
