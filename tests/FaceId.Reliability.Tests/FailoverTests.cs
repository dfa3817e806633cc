using FaceId.Common;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Ledger.Tests;
using FaceId.Redis;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;
using PackageRecord = FaceId.Packages.Ledger.PackageRecord;

namespace FaceId.Reliability.Tests;

/// <summary>
/// Failover (docs/reliability.md, "Failover"): a Redis Cluster of three masters with one replica each (six
/// redis-server processes, AOF with fsync on every write, cluster-node-timeout 1 s) under unary and batch load
/// from two real Metering processes. The account's master is killed (SIGKILL) after its replica link was cut
/// and kept from reconnecting, so the replica is behind for sure when it is promoted: exactly the writes the
/// master acknowledged alone are lost. With Redis:ReplicaAcks=1 none of them was acknowledged (callers saw
/// UNAVAILABLE and retried with the same ids), so every acknowledged charge survives; with 0 some do not.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const string Label = "id_info_check";
    private const int Records = 400;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(40);
    /// <summary>A relay that died with the master leaves its outbox lock to lapse (30 s) before another drains it.</summary>
    private static readonly TimeSpan OutboxDrain = TimeSpan.FromSeconds(45);
    /// <summary>Set on the doomed master: its replica cannot reconnect, the services' open connections go on.</summary>
    private const string ReplicaPassword = "keeps-the-replica-out";

    private static Task<RedisCluster> StartClusterAsync() =>
        RedisCluster.StartAsync(masters: 3, nodeTimeoutMs: 1_000, replicasPerMaster: 1, "--appendonly", "yes", "--appendfsync", "always");

    private static Dictionary<string, string?> ServiceEnvironment(RedisCluster cluster, int replicaAcks) => new()
    {
        ["Redis__ConnectionString"] = cluster.ConnectionString,
        ["Redis__ReplicaAcks"] = replicaAcks.ToString(),
        ["Redis__ReplicaAckTimeoutMs"] = "500",
        ["EventBus__OutboxSweepIntervalMs"] = "200",
    };

    private static Task<(LedgerHost Host, string Account, List<PackageRecord> Packages, UsageRecord[] Records)> PrepareAsync(RedisCluster cluster) =>
        CrashUnderLoadTests.PrepareAsync(cluster.ConnectionString, packageCount: 2, recordCount: Records);

    /// <summary>
    /// Kill -9 of the account's master under load, its replica behind. ReplicaAcks=1: only OK or UNAVAILABLE, every
    /// acknowledged id present with its outcome, a replay charges nothing twice, ledger = outcomes = events (R-MET-2,
    /// R-PKG-3). ReplicaAcks=0 (today's default): the same run loses acknowledged charges — the rig can see the loss.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public async Task Kill_9_of_a_master_whose_replica_lags_loses_an_acknowledged_charge_only_without_WAIT(int replicaAcks)
    {
        await using var cluster = await StartClusterAsync();
        var (host, account, packages, records) = await PrepareAsync(cluster);
        await using var _ = host;
        await using var a = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment(cluster, replicaAcks));
        await using var b = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment(cluster, replicaAcks));
        // Billing consumes the usage events through the failover (its own writes wait for the replica too).
        await using var billing = replicaAcks == 0 ? null : await StartBillingAsync(cluster, host, account);
        var driver = new LoadDriver([a.Channel, b.Channel], callers: 16, Bound, batchCallers: 2, batchSize: 20, callDeadline: TimeSpan.FromSeconds(10));
        var master = await cluster.MasterOfAsync(RedisKeys.AccountTag(account));
        var replica = await cluster.ReplicaOfAsync(master);
        using var admin = cluster.Connect(); // connected before the master wants a password

        int acknowledgedAtCut = 0, acknowledgedAtKill = 0;
        var outcomes = await driver.RunAsync(records, Records / 4, async () =>
        {
            // The replica's link is cut and cannot come back (the master now wants a password the replica lacks; the
            // services' connections are authenticated already): from here on the master alone holds new writes.
            var node = admin.GetServer(master.ConnectionString);
            await node.ExecuteAsync("CONFIG", "SET", "requirepass", ReplicaPassword);
            await node.ExecuteAsync("CLIENT", "KILL", "TYPE", "replica");
            acknowledgedAtCut = driver.Acknowledged;
            // Some calls answered meanwhile (with WAIT none of them OK), then the master dies.
            await Eventually.AssertAsync(() => driver.Retries > 0 || driver.Acknowledged >= acknowledgedAtCut + 30, TimeSpan.FromSeconds(10),
                "calls answered after the replica fell behind");
            acknowledgedAtKill = driver.Acknowledged;
            await master.KillAsync();
            // The replica takes over; the dead node then comes back as an orchestrator would restart it, and rejoins as the
            // new master's replica (until then, with one replica per master, that master has none to confirm a write).
            await Eventually.AssertAsync(async () => await cluster.MasterOfAsync(RedisKeys.AccountTag(account)) == replica,
                TimeSpan.FromSeconds(15), "the replica was promoted");
            await master.RestartAsync();
        });

        output.WriteLine($"ReplicaAcks={replicaAcks}: acknowledged at the cut {acknowledgedAtCut}, at the kill {acknowledgedAtKill}; " +
            $"unavailable for {driver.UnavailabilityWindow.TotalMilliseconds:F0} ms (first failed call to first good call); " +
            $"failures {string.Join(",", driver.Failures.Select(f => $"{f.Key}:{f.Value}"))} " +
            $"(UNAVAILABLE by condition: {string.Join(",", driver.UnavailableConditions.Select(c => $"{c.Key}:{c.Value}"))})");
        Assert.All(driver.Failures.Keys, code => Assert.Equal(StatusCode.Unavailable, code)); // only OK or UNAVAILABLE
        var lost = await LostAsync(host, account, records);
        if (replicaAcks == 0)
        {
            // Without WAIT the master acknowledged charges its replica never received: gone with the failover.
            Assert.True(lost.Count > 0, "expected acknowledged charges to be lost without WAIT");
            output.WriteLine($"ReplicaAcks=0: {lost.Count} acknowledged charges lost, e.g. {lost[0]}");
            return;
        }
        Assert.Empty(lost);
        Assert.True(driver.Failures.GetValueOrDefault(StatusCode.Unavailable) > 0, "callers saw the failover");
        var report = await Invariants.CheckAsync(host, host.Redis, account, packages, records, outcomes, Label, OutboxDrain);
        output.WriteLine($"ReplicaAcks=1: {report}");

        // A replay of every request (a gateway that never heard back) charges nothing twice.
        var replay = await new LoadDriver([a.Channel, b.Channel], callers: 16, Bound, batchCallers: 2, batchSize: 20).RunAsync(records, 0, () => Task.CompletedTask);
        for (var i = 0; i < records.Length; i++)
            Assert.True(replay[i].Duplicate && replay[i].PackageId == outcomes[i].PackageId, $"{records[i].RequestId} replayed as {replay[i]}");
        var again = await Invariants.CheckAsync(host, host.Redis, account, packages, records, outcomes, Label, OutboxDrain);
        Assert.Equal(report.PackageCalls + report.PostpaidCalls, again.PackageCalls + again.PostpaidCalls);

        // Ledger = Billing = statistics (R-BIL-1, R-BIL-3): every acknowledged call counted once, the cells reconcile.
        var client = new BillingService.BillingServiceClient(billing!.Channel);
        var (from, to) = (Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)), Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)));
        var row = await Eventually.GetAsync(
            async () => (await client.GetStatisticsAsync(new GetStatisticsRequest { AccountId = account, Granularity = Granularity.Day, From = from, To = to }))
                .Rows.SingleOrDefault(r => r.Label == Label),
            r => r is not null && r.Calls == Records, OutboxDrain, "Billing counted every acknowledged call");
        Assert.Equal((report.PackageCalls, report.PostpaidCalls), (row!.PackageCalls, row.PostpaidCalls));
        Assert.True((await client.GetReconciliationAsync(new GetReconciliationRequest { AccountId = account, From = from, To = to })).Balanced,
            "Billing's cells and the ledger's day counters agree");
    }

    /// <summary>A Billing process on the cluster, told that the account's service opened (its price book).</summary>
    private static async Task<ServiceProcess> StartBillingAsync(RedisCluster cluster, LedgerHost host, string account)
    {
        await host.Bus.PublishAsync(new ServiceActivated
        {
            AccountId = account, ActivatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-30)),
            PriceBook = "2021-06", SettlementCycle = SettlementCycle.Daily, ApplicationId = "app-failover",
        });
        var env = ServiceEnvironment(cluster, 1);
        env["EventBus__ProcessingTimeoutMs"] = "2000";
        env["EventBus__RedeliverIntervalMs"] = "200";
        return await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Billing"), env);
    }

    /// <summary>
    /// A planned CLUSTER FAILOVER (the replica takes over after catching up) under load, ReplicaAcks=1: nothing
    /// acknowledged is lost and no call fails. A charge whose confirmation reaches the old master once it is a replica
    /// runs again on the new master (DeductScript: its records answer "duplicate" there and keep their first answer,
    /// so nothing is charged twice, R-PKG-5) and is confirmed by the new master's replica.
    /// </summary>
    [Fact]
    public async Task A_planned_CLUSTER_FAILOVER_under_load_loses_nothing_and_fails_no_call()
    {
        await using var cluster = await StartClusterAsync();
        var (host, account, packages, records) = await PrepareAsync(cluster);
        await using var _ = host;
        await using var a = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment(cluster, 1));
        await using var b = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), ServiceEnvironment(cluster, 1));
        var driver = new LoadDriver([a.Channel, b.Channel], callers: 16, Bound, batchCallers: 2, batchSize: 20, callDeadline: TimeSpan.FromSeconds(10));
        var master = await cluster.MasterOfAsync(RedisKeys.AccountTag(account));
        var replica = await cluster.ReplicaOfAsync(master);

        var outcomes = await driver.RunAsync(records, Records / 4, async () =>
        {
            await replica.CommandAsync("CLUSTER", "FAILOVER");
            await Eventually.AssertAsync(async () => await cluster.MasterOfAsync(RedisKeys.AccountTag(account)) == replica, TimeSpan.FromSeconds(10), "the replica took over");
        });

        output.WriteLine($"CLUSTER FAILOVER: failed calls {driver.Failures.Values.Sum()} " +
            $"({string.Join(",", driver.UnavailableConditions.Select(c => $"{c.Key}:{c.Value}"))}), window {driver.UnavailabilityWindow.TotalMilliseconds:F0} ms");
        Assert.Empty(driver.Failures);
        Assert.Empty(await LostAsync(host, account, records));
        await Invariants.CheckAsync(host, host.Redis, account, packages, records, outcomes, Label, OutboxDrain);
    }

    /// <summary>Acknowledged request ids the ledger no longer knows.</summary>
    private static async Task<List<string>> LostAsync(LedgerHost host, string account, UsageRecord[] records)
    {
        await Eventually.AssertAsync(async () =>
        {
            await host.Redis.PingAsync();
            await host.Redis.StringGetAsync(RedisKeys.AccountTag(account)); // the account's slot answers again
            return true;
        }, TimeSpan.FromSeconds(20), "the checker reaches the account's new master");
        var lost = new List<string>();
        foreach (var r in records)
        {
            try
            {
                await host.Metering.GetAsync(account, r.RequestId);
            }
            catch (NotFoundException)
            {
                lost.Add(r.RequestId);
            }
        }
        return lost;
    }
}
