using FaceId.Common;
using FaceId.Ledger.Tests;
using FaceId.Contracts;
using FaceId.Contracts.Metering.V1;
using FaceId.EventBus;
using FaceId.Redis;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;
using PackageRecord = FaceId.Packages.Ledger.PackageRecord;
using UsageKind = FaceId.Metering.Application.UsageKind;

namespace FaceId.Reliability.Tests;

/// <summary>The money invariants every fault test checks after its load (docs/reliability.md).</summary>
public static class Invariants
{
    public sealed record Report(int Records, int Acknowledged, int DuplicatesAnswered, long PackageCalls, long PostpaidCalls, int EventsOnStream, int EventDuplicatesAtTransport);

    public static async Task<Report> CheckAsync(LedgerHost host, IDatabase redis, string account, IReadOnlyList<PackageRecord> packages,
        UsageRecord[] records, UsageOutcome[] outcomes, string label, TimeSpan timeout)
    {
        // After a Redis restart the checker's own connection comes back in the background (it fails fast meanwhile).
        await Eventually.AssertAsync(async () =>
        {
            await host.Redis.PingAsync();
            await redis.PingAsync();
            return true;
        }, timeout, "the checker reaches Redis");
        // Every acknowledged record is present with the outcome it was acknowledged with: nothing lost, nothing changed.
        Assert.All(outcomes, o => Assert.NotNull(o));
        for (var i = 0; i < records.Length; i++)
        {
            var stored = await host.Metering.GetAsync(account, records[i].RequestId);
            Assert.True(stored.PackageId == outcomes[i].PackageId && Kind(stored.Kind) == outcomes[i].Kind,
                $"{records[i].RequestId}: acknowledged {outcomes[i].Kind}/{outcomes[i].PackageId}, stored {stored.Kind}/{stored.PackageId}");
        }
        // Billable = package-deducted + postpaid (summed over the Shanghai days the records fall on); no package overdrawn; each charge counted once.
        long packageCalls = 0, postpaidCalls = 0, notBillable = 0;
        foreach (var day in records.Select(r => ChinaCalendar.DateOf(r.OccurredAt.ToDateTimeOffset())).Distinct())
        {
            packageCalls += await host.CounterAsync(account, ChinaCalendar.StartOf(day), label + "|P");
            postpaidCalls += await host.CounterAsync(account, ChinaCalendar.StartOf(day), label + "|O");
            notBillable += await host.CounterAsync(account, ChinaCalendar.StartOf(day), label + "|N");
        }
        Assert.Equal(records.Length, packageCalls + postpaidCalls + notBillable);
        Assert.Equal(outcomes.LongCount(o => o.Kind is ChargeKind.Package or ChargeKind.Postpaid), packageCalls + postpaidCalls);
        Assert.Equal(outcomes.LongCount(o => o.Kind == ChargeKind.NotBillable), notBillable);
        Assert.Equal(outcomes.LongCount(o => o.Kind == ChargeKind.Package), packageCalls);
        long used = 0;
        var alertsDue = 0;
        foreach (var p in packages)
        {
            var stored = (await host.Reader.GetPackageAsync(account, p.Id))!;
            Assert.True(stored.Used <= stored.Size, $"package {p.Id} overdrawn: {stored.Used}/{stored.Size}");
            Assert.Equal(outcomes.Count(o => o.PackageId == p.Id), stored.Used);
            used += stored.Used;
            alertsDue += ((stored.Size - stored.Used) * 5 < stored.Size ? 1 : 0) + (stored.Used == stored.Size ? 1 : 0);
        }
        Assert.Equal(packageCalls, used);

        // Every charge reached the bus (the outboxes drain, even those of killed processes); at-least-once.
        var outbox = RedisKeys.Outbox(RedisKeys.AccountTag(account));
        await Eventually.AssertAsync(async () => await redis.StreamLengthAsync(outbox) == 0, timeout, "the outbox drains");
        var published = (await redis.StreamRangeAsync(EventTopics.UsageCharged))
            .Select(e => CloudEvent.Parse((byte[])e["data"]!)).Where(e => e.DataJson.Contains(account)).ToList();
        var requestIds = published.SelectMany(e => RequestIds(e.DataJson)).ToList();
        Assert.Equal(records.Select(r => r.RequestId).ToHashSet(), requestIds.ToHashSet());
        var alerts = (await redis.StreamRangeAsync(EventTopics.PackageAlert))
            .Select(e => CloudEvent.Parse((byte[])e["data"]!)).Where(e => e.DataJson.Contains(account)).Select(e => e.Id).Distinct().Count();
        Assert.Equal(alertsDue, alerts); // low balance (remaining under 20 %) and exhausted, once each per package (R-PKG-6)
        return new Report(records.Length, outcomes.Length, outcomes.Count(o => o.Duplicate), packageCalls, postpaidCalls,
            published.Count, published.Count - published.Select(e => e.Id).Distinct().Count());
    }

    private static ChargeKind Kind(UsageKind kind) => kind switch
    {
        UsageKind.Package => ChargeKind.Package,
        UsageKind.Postpaid => ChargeKind.Postpaid,
        UsageKind.NotBillable => ChargeKind.NotBillable,
        _ => ChargeKind.Refused,
    };

    private static IEnumerable<string> RequestIds(string usageChargedJson)
    {
        foreach (var r in Google.Protobuf.JsonParser.Default.Parse<FaceId.Contracts.Events.V1.UsageCharged>(usageChargedJson).AllRecords())
            yield return r.RequestId;
    }
}
