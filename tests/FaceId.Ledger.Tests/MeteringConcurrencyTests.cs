using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using PackageRecord = FaceId.Packages.Ledger.PackageRecord;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>
/// R-PKG-5 under load: two Metering processes, 64 concurrent callers, 20,000 calls against
/// packages worth 5,000 calls — never overdrawn, each alert once, and a full replay changes nothing.
/// </summary>
public sealed class MeteringConcurrencyTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const int Calls = 20_000;
    private const int Callers = 64;

    [Fact]
    public async Task R_PKG_5_two_metering_processes_and_64_callers_charge_exactly_5000_calls_to_packages_and_replays_change_nothing()
    {
        await using var host = new LedgerHost(redis.ConnectionString, DateTimeOffset.UtcNow);
        var account = await host.OpenedAccountAsync();
        var packages = new List<PackageRecord>();
        for (var i = 0; i < 5; i++) packages.Add(await host.BuyAsync(account, "id_info_check", 1000));

        var env = new Dictionary<string, string?> { ["Redis__ConnectionString"] = redis.ConnectionString, ["EventBus__OutboxRelayEnabled"] = "false" };
        await using var meteringA = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);
        await using var meteringB = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);
        var clients = new[] { new MeteringService.MeteringServiceClient(meteringA.Channel), new MeteringService.MeteringServiceClient(meteringB.Channel) };
        var records = Enumerable.Range(0, Calls).Select(i => new UsageRecord
        {
            RequestId = $"load-{i}",
            AccountId = account,
            Channel = "id_info_check",
            AccessMode = i % 2 == 0 ? AccessMode.Saas : AccessMode.Paas,
            ReturnCode = "0",
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }).ToArray();

        var first = await SendAllAsync(clients, records);
        var replay = await SendAllAsync(clients, records);

        Assert.Equal(5_000, first.Count(o => o.Kind == ChargeKind.Package));
        Assert.Equal(15_000, first.Count(o => o.Kind == ChargeKind.Postpaid));
        Assert.DoesNotContain(first, o => o.Duplicate);
        foreach (var p in packages)
        {
            var stored = (await host.Reader.GetPackageAsync(account, p.Id))!;
            Assert.Equal(1000, stored.Used); // never overdrawn, fully used
            Assert.Equal(1000, first.Count(o => o.PackageId == p.Id));
        }
        Assert.All(replay, o => Assert.True(o.Duplicate));
        Assert.Equal(
            first.Select(o => (o.RequestId, o.Kind, o.PackageId, o.PackageRemaining)),
            replay.Select(o => (o.RequestId, o.Kind, o.PackageId, o.PackageRemaining)));
        var today = DateTimeOffset.UtcNow;
        Assert.Equal(5_000, await host.CounterAsync(account, today, "id_info_check|P"));
        Assert.Equal(15_000, await host.CounterAsync(account, today, "id_info_check|O"));
        var alerts = (await host.OutboxAsync(account)).Where(e => e.Topic == "faceid.packages.alert.v1").Select(e => e.Id).ToList();
        Assert.Equal(10, alerts.Count); // low balance + exhausted, once per package
        Assert.Equal(10, alerts.Distinct().Count());
        var charged = (await host.OutboxAsync(account)).Where(e => e.Topic == "faceid.usage.charged.v1")
            .Sum(e => Google.Protobuf.JsonParser.Default.Parse<FaceId.Contracts.Events.V1.UsageCharged>(e.Data).AllRecords().Count());
        Assert.Equal(Calls, charged); // every new charge reported once, replays not at all
    }

    /// <summary>Sends every record once, <see cref="Callers"/> at a time, alternating between the processes; results in record order.</summary>
    private static async Task<UsageOutcome[]> SendAllAsync(MeteringService.MeteringServiceClient[] clients, UsageRecord[] records)
    {
        var outcomes = new UsageOutcome[records.Length];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(async caller =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < records.Length)
                outcomes[i] = (await clients[(caller + i) % 2].RecordUsageAsync(new RecordUsageRequest { Record = records[i] })).Outcome;
        }));
        return outcomes;
    }
}
