using FaceId.Common;
using FaceId.Contracts.Common.V1;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.Ledger.Tests;

/// <summary>
/// Property-style: random, seeded sequences of purchases, grants, usage (late, out of order,
/// duplicated, from a sub-account), time jumps and scheduler runs. After every step, per label:
/// billable = package-deducted + postpaid, used ≤ size for every package, every package charge
/// inside that package's validity, and duplicates answer the stored outcome (R-PKG-2..5, R-MET-4, R-BIL-3).
/// </summary>
public sealed class LedgerPropertyTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly string[] Labels = ["basic_authoritative", "basic_self_photo"];

    [Theory]
    [InlineData(20261126)]
    [InlineData(7)]
    [InlineData(424242)]
    public async Task Invariants_hold_after_every_step_of_a_random_history(int seed)
    {
        output.WriteLine($"seed {seed} (rerun this case to reproduce)");
        var random = new Random(seed);
        await using var host = new LedgerHost(redis.ConnectionString, new DateTimeOffset(2026, 1, 5, 9, 0, 0, ChinaCalendar.Offset));
        var account = await host.OpenedAccountAsync();
        var sub = await host.SubAccountAsync(account);
        var billable = Labels.ToDictionary(l => l, _ => 0L);
        var seen = new List<(string Id, string Label, DateTimeOffset At)>();
        var sent = new Dictionary<string, UsageInput>(); // each kept id's call, as first sent
        var days = new HashSet<DateOnly>();
        var scheduler = host.Scheduler;

        for (var step = 0; step < 120; step++)
        {
            var roll = random.Next(100);
            string what;
            if (roll < 12)
            {
                var label = Labels[random.Next(Labels.Length)];
                await host.Packages.PurchaseAsync(TestIds.New("order"), account, label, 1000);
                what = $"buy {label}";
            }
            else if (roll < 14)
            {
                await host.Grants.GrantTrialAsync(account, host.Time.GetUtcNow());
                what = "grant trial (again)";
            }
            else if (roll < 22)
            {
                var jump = TimeSpan.FromHours(random.Next(1, 24 * 45));
                host.Time.Advance(jump);
                await scheduler.RunDueAsync();
                what = $"advance {jump}";
            }
            else
            {
                var batch = new List<UsageInput>();
                // Positions of records that reuse a kept id for another call (another access mode): refused, nothing changed (R-PKG-5).
                var reused = new HashSet<int>();
                var n = random.Next(1, 400);
                for (var k = 0; k < n; k++)
                {
                    if (seen.Count > 0 && random.Next(10) == 0)
                    {
                        var (id, _, at) = seen[random.Next(seen.Count)];
                        if (at > host.Time.GetUtcNow() - UsageRecordValidator.LateWindow + TimeSpan.FromMinutes(1))
                        {
                            // A retry repeats its call; now and then a reused id names another call.
                            var original = sent[id];
                            if (random.Next(4) == 0)
                            {
                                reused.Add(batch.Count);
                                batch.Add(original with { AccessMode = AccessMode.Paas });
                            }
                            else batch.Add(original);
                            continue;
                        }
                    }
                    var label = Labels[random.Next(Labels.Length)];
                    var occurred = host.Time.GetUtcNow() - TimeSpan.FromMinutes(random.Next(0, 60 * 24 * 6));
                    batch.Add(Input(TestIds.New("r"), random.Next(3) == 0 ? sub : account, label, random.Next(8) == 0 ? "1001" : "0", occurred));
                }
                var results = await host.Metering.RecordBatchAsync(batch);
                for (var k = 0; k < batch.Count; k++)
                {
                    var r = results[k];
                    if (reused.Contains(k))
                    {
                        Assert.True((r.Kind, r.Refusal) == (UsageKind.Refused, RefusalReason.IdempotencyKeyReused), $"seed {seed} step {step}: a reused id ({r.RequestId}) was {r.Kind}/{r.Refusal}, duplicate {r.Duplicate}");
                        continue;
                    }
                    if (r.Duplicate)
                    {
                        var stored = await host.Metering.GetAsync(account, r.RequestId);
                        Assert.True((stored.Kind, stored.PackageId) == (r.Kind, r.PackageId), $"seed {seed} step {step}: duplicate answer differs from the stored outcome");
                        continue;
                    }
                    Assert.NotEqual(UsageKind.Refused, r.Kind);
                    seen.Add((r.RequestId, batch[k].Label, batch[k].OccurredAt!.Value));
                    sent[r.RequestId] = batch[k];
                    days.Add(ChinaCalendar.DateOf(batch[k].OccurredAt!.Value));
                    if (r.Billable) billable[r.Label]++;
                }
                what = $"use {n}";
            }
            await AssertInvariantsAsync(host, account, billable, days, seen, $"seed {seed} step {step} ({what})");
        }
    }

    private static UsageInput Input(string id, string account, string label, string code, DateTimeOffset at) =>
        new(id, account, label, "", ComparisonLibrary.Unspecified, AccessMode.Saas, code, at);

    private static async Task AssertInvariantsAsync(LedgerHost host, string account, Dictionary<string, long> billable,
        HashSet<DateOnly> days, List<(string Id, string Label, DateTimeOffset At)> seen, string where)
    {
        var packages = await host.Reader.ListPackagesAsync(account);
        foreach (var p in packages) Assert.True(p.Used <= p.Size, $"{where}: package {p.Id} overdrawn ({p.Used}/{p.Size})");
        foreach (var label in Labels)
        {
            long deducted = 0, postpaid = 0;
            foreach (var day in days)
            {
                deducted += await host.LabelCountAsync(account, ChinaCalendar.StartOf(day), label, ChargeKind.Package);
                postpaid += await host.LabelCountAsync(account, ChinaCalendar.StartOf(day), label, ChargeKind.Postpaid);
            }
            Assert.True(billable[label] == deducted + postpaid, $"{where}: {label} billable {billable[label]} != package {deducted} + postpaid {postpaid}");
            Assert.True(deducted == packages.Where(p => p.Label == label).Sum(p => p.Used), $"{where}: {label} package counter {deducted} != packages' used");
        }
        // Every package charge lies inside that package's validity (R-PKG-2, R-MET-4): checked on a sample
        // of the records whose outcome is still kept (request ids are remembered 8 days after their day).
        var byId = packages.ToDictionary(p => p.Id);
        var kept = host.Time.GetUtcNow() - UsageCharges.RequestIdRetention;
        foreach (var (id, _, at) in seen.TakeLast(50).Where(s => s.At >= kept))
        {
            var outcome = await host.Metering.GetAsync(account, id);
            if (outcome.Kind != UsageKind.Package) continue;
            var p = byId[outcome.PackageId];
            Assert.True(p.ValidFrom <= at && at < p.ExpiresAt, $"{where}: {id} at {at} charged to {p.Id} valid {p.ValidFrom}..{p.ExpiresAt}");
        }
    }
}
