using FaceId.Contracts;
using FaceId.Contracts.Metering.V1;
using FaceId.EventBus;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Platform.Tests;

/// <summary>
/// The foundation's vertical slice through real processes over the Redis Streams transport:
/// Onboarding approves → ServiceActivated → Packages grants the trial → Metering charges a call.
/// </summary>
public sealed class SliceEndToEndTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task R_ONB_3_approval_grants_the_trial_and_a_call_is_charged_to_it_exactly_once_across_processes()
    {
        var env = Hosts.Environment(redis.ConnectionString);
        await using var onboarding = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Onboarding"), env);
        await using var packages = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Packages"), env);
        await using var metering = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);

        var accountId = await Scenario.OpenServiceAsync(onboarding.Channel);

        var trial = await Scenario.WaitForPackagesAsync(packages.Channel, accountId, 6);
        Assert.Equal(6, trial.Count);
        Assert.All(trial, p => Assert.True(p.Free && p.Size == 100 && p.PriceFen == 0));
        Assert.Equal(
            ["basic_authoritative", "basic_self_photo", "enhanced_authoritative_app", "enhanced_authoritative_wechat", "enhanced_self_photo_app", "enhanced_self_photo_wechat"],
            trial.Select(p => p.Label).Order().ToArray());

        var record = Scenario.Usage(accountId, TestIds.New("req"));
        var first = await Scenario.RecordAsync(metering.Channel, record);
        Assert.Equal(ChargeKind.Package, first.Kind);
        Assert.False(first.Duplicate);
        Assert.Equal(99, first.PackageRemaining);
        var basic = trial.Single(p => p.Label == "basic_authoritative");
        Assert.Equal(basic.PackageId, first.PackageId);

        var replay = await Scenario.RecordAsync(metering.Channel, record);
        Assert.True(replay.Duplicate);
        Assert.Equal(first.PackageId, replay.PackageId);
        Assert.Equal(99, replay.PackageRemaining);

        // The charge left Metering as one UsageCharged event on its topic (relayed from the outbox).
        var events = await Eventually.GetAsync(
            async () => (await redis.Database.StreamRangeAsync(EventTopics.UsageCharged))
                .Select(e => CloudEvent.Parse((byte[])e["data"]!))
                .Where(e => e.DataJson.Contains(record.RequestId))
                .ToList(),
            list => list.Count >= 1, Scenario.Timeout, "the usage event is published");
        Assert.Single(events);
        Assert.Contains(basic.PackageId, events[0].DataJson);
    }
}
