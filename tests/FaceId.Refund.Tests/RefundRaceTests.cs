using System.Diagnostics;
using FaceId.Common;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.Refund.Application;
using FaceId.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.Refund.Tests;

/// <summary>R-REF-2 with threads in one process, on the application classes.</summary>
public sealed class RefundRaceTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const int Rounds = 1_000;
    private const string Label = "basic_self_photo";

    [Fact]
    public async Task R_REF_2_1000_rounds_refund_and_metering_call_released_together_on_threads_exactly_one_wins_and_money_and_quota_reconcile()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, DateTimeOffset.UtcNow);
        var rounds = await PrepareAsync(host, Rounds);
        var refunds = new RefundRecord?[Rounds];
        var refusals = new PreconditionFailedException?[Rounds];
        var calls = new UsageResult?[Rounds];

        var clock = Stopwatch.StartNew();
        var errors = RefundRace.Run(Rounds,
            i =>
            {
                try { refunds[i] = host.Refunds.RequestRefundAsync("race-" + i, rounds[i].Account, rounds[i].Package.Id).GetAwaiter().GetResult(); }
                catch (PreconditionFailedException e) { refusals[i] = e; }
            },
            i => calls[i] = host.UseAsync(rounds[i].Account, Label, requestId: "call-" + i).GetAwaiter().GetResult(),
            TimeSpan.FromSeconds(120));
        output.WriteLine($"{Rounds} rounds in {clock.ElapsedMilliseconds} ms");

        var refundWins = 0;
        var callWins = 0;
        for (var i = 0; i < Rounds; i++)
        {
            Assert.True(errors[i] == default, $"round {i}: {errors[i].Refund ?? errors[i].Call}");
            var (account, package) = rounds[i];
            var call = calls[i]!;
            var stored = await host.PackageAsync(account, package.Id);
            if (refunds[i] is { } refund)
            {
                // The refund won: the package was frozen first, the call went postpaid.
                refundWins++;
                Assert.Equal(RefundState.Credited, refund.State);
                Assert.Equal(UsageKind.Postpaid, call.Kind);
                Assert.Equal(0, stored.Used);
                Assert.Equal("refunded", stored.StoredStatus);
                Assert.Equal(package.PriceFen, Assert.Single(await host.RefundEventsAsync(account)).AmountFen);
            }
            else
            {
                // The call won: charged to the package, the refund refused as used.
                callWins++;
                Assert.Equal("REFUND_PACKAGE_USED", refusals[i]!.Reason);
                Assert.Equal(UsageKind.Package, call.Kind);
                Assert.Equal(package.Id, call.PackageId);
                Assert.Equal(1, stored.Used);
                Assert.Equal("active", stored.StoredStatus);
                Assert.Empty(await host.RefundEventsAsync(account));
            }
        }
        output.WriteLine($"refund won {refundWins}, call won {callWins}");
        // Both sides must have won some rounds, or the race was never contested and proves nothing.
        Assert.True(refundWins > 0 && callWins > 0, $"the race was one-sided: refund won {refundWins}, call won {callWins}");

        // Money and quota reconcile over all rounds.
        var credited = 0L;
        var used = 0L;
        var postpaid = 0L;
        foreach (var (account, package) in rounds)
        {
            credited += (await host.RefundEventsAsync(account)).Sum(e => e.AmountFen);
            used += (await host.PackageAsync(account, package.Id)).Used;
            postpaid += await host.CounterAsync(account, host.Time.GetUtcNow(), Label + "|O");
        }
        Assert.Equal(Rounds, refundWins + callWins);
        Assert.Equal(rounds[0].Package.PriceFen * refundWins, credited);
        Assert.Equal(callWins, used);
        Assert.Equal(refundWins, postpaid);
    }

    /// <summary>One opened account per round with one fresh purchased package: the only package the round's call can use.</summary>
    internal static async Task<(string Account, PackageRecord Package)[]> PrepareAsync(RefundTestHost host, int rounds)
    {
        var prepared = new (string, PackageRecord)[rounds];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < rounds)
            {
                var account = await host.OpenedAccountAsync();
                prepared[i] = (account, await host.BuyAsync(account, Label, 1000));
            }
        }));
        return prepared;
    }
}
