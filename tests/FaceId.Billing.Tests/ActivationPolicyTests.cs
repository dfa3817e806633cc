using FaceId.Billing.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Onboarding.Grpc;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>
/// docs/rules.md §5.4 end to end: Onboarding approves applications on fake dates, its ServiceActivated
/// events reach Billing, and the bills follow the activation date's price book and cycle.
/// </summary>
public sealed class ActivationPolicyTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task R_BIL_2_legacy_or_2021_06_book_and_monthly_or_daily_cycle_follow_the_activation_date()
    {
        var clock = Hosts.Clock("2021-06-21T23:59:59");
        await using var onboarding = Hosts.Start<OnboardingGrpcService>(_redis.ConnectionString, clock);
        await using var billing = Hosts.Billing(_redis.ConnectionString, clock);

        var opened21 = await Platform.OpenServiceAsync(onboarding);
        clock.SetUtcNow(Hosts.At("2021-06-22T00:00"));
        var opened22 = await Platform.OpenServiceAsync(onboarding);
        clock.SetUtcNow(Hosts.At("2023-01-03T23:59:59"));
        var opened0103 = await Platform.OpenServiceAsync(onboarding);
        clock.SetUtcNow(Hosts.At("2023-01-04T00:00"));
        var opened0104 = await Platform.OpenServiceAsync(onboarding);
        foreach (var a in new[] { opened21, opened22, opened0103, opened0104 }) await Platform.WaitForBillingAsync(billing, a);

        // 1,000 liveness verifications each in June 2021, under the label each price book gives them.
        var bus = billing.Services.GetRequiredService<IEventBus>();
        await bus.PublishAsync(new UsageCharged { Records = { Usage.Many(1_000, opened21, "legacy_liveness_verification", Hosts.At("2021-06-25T10:00"), priceBook: "legacy") } });
        await bus.PublishAsync(new UsageCharged { Records = { Usage.Many(1_000, opened22, "basic_authoritative", Hosts.At("2021-06-25T10:00")) } });
        using var redis = _redis.Connect();
        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(redis.GetDatabase(), EventTopics.UsageCharged), Platform.Timeout, "usage consumed");

        clock.SetUtcNow(Hosts.At("2023-02-01T00:00"));
        var client = new BillingService.BillingServiceClient(billing.Channel);
        Task<Bill> Settle(string account, string at) => client.SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = TestIds.New("settle"), AccountId = account, PeriodInstant = Timestamp.FromDateTimeOffset(Hosts.At(at)),
        }).ResponseAsync;

        var legacy = await Settle(opened21, "2021-06-25T00:00");
        var current = await Settle(opened22, "2021-06-25T00:00");
        var monthly = await Settle(opened0103, "2023-01-03T12:00");
        var daily = await Settle(opened0104, "2023-01-04T12:00");

        Assert.Equal(("legacy", SettlementCycle.Monthly, "bill-2021-06"), (legacy.PriceBook, legacy.Cycle, legacy.BillId));
        Assert.Equal(1_000 * 85, legacy.TotalFen); // legacy whole-volume tier [1,000, 10,000): 0.85
        Assert.Equal(("2021-06", SettlementCycle.Monthly, "bill-2021-06"), (current.PriceBook, current.Cycle, current.BillId));
        Assert.Equal(1_000 * 100, current.TotalFen); // 2021-06 book, Basic authoritative: 1.00 flat
        Assert.Equal(("2021-06", SettlementCycle.Monthly, "bill-2023-01"), (monthly.PriceBook, monthly.Cycle, monthly.BillId));
        Assert.Equal(("2021-06", SettlementCycle.Daily, "bill-2023-01-04"), (daily.PriceBook, daily.Cycle, daily.BillId));
        Assert.Equal(Hosts.At("2023-01-05T00:00"), daily.PeriodEnd.ToDateTimeOffset());
    }
}
