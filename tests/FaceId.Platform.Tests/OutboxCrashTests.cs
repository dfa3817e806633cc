using FaceId.Contracts.Onboarding.V1;
using FaceId.Redis;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Platform.Tests;

/// <summary>
/// Decision 7 (docs/architecture.md): a state change and its event are written in one atomic step, so killing the
/// service between the change and the relay loses no event — the next relay publishes it.
/// </summary>
public sealed class OutboxCrashTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Killing_Onboarding_between_the_approval_and_the_relay_of_its_event_loses_no_event()
    {
        var env = Hosts.Environment(redis.ConnectionString);
        var stalled = new Dictionary<string, string?>(env) { ["EventBus__OutboxRelayEnabled"] = "false" };
        // Every relay sweeps every registered outbox, so no process may relay until Onboarding restarts.
        await using var packages = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Packages"), stalled);
        await using var onboarding = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Onboarding"), stalled);

        var accountId = await Scenario.OpenServiceAsync(onboarding.Channel);
        var account = await new OnboardingService.OnboardingServiceClient(onboarding.Channel).GetAccountAsync(new GetAccountRequest { AccountId = accountId });
        Assert.Equal(ServiceState.Opened, account.ServiceState);
        var outbox = RedisKeys.Outbox(RedisKeys.AccountTag(accountId));
        var waiting = await redis.Database.StreamRangeAsync(outbox);
        Assert.Contains(waiting, e => (string)e["id"]! == "activated:" + accountId);

        onboarding.Kill(); // SIGKILL: the state change is done, its event not relayed

        await using var restarted = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Onboarding"), env);
        var trial = await Scenario.WaitForPackagesAsync(packages.Channel, accountId, 6);
        Assert.Equal(6, trial.Count);
        await Eventually.AssertAsync(async () => await redis.Database.StreamLengthAsync(outbox) == 0, Scenario.Timeout, "the outbox is drained");
    }
}
