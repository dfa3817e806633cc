using System.Text.Json.Nodes;
using FaceId.Contracts.Events.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using StandardWebhooks;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>Webhook delivery under a crash: Onboarding as a real process, killed (SIGKILL) while deliveries wait for their retries.</summary>
public sealed class WebhookCrashTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Killing_onboarding_mid_retry_loses_no_delivery_and_every_repeat_carries_the_same_webhook_id()
    {
        const int count = 40;
        await using var receiver = await WebhookReceiver.StartAsync();
        // Every delivery fails its first attempt, so the kill finds some waiting for their retry.
        receiver.Behave = (_, n) => (n == 1 ? 500 : 200, TimeSpan.FromMilliseconds(20));
        var config = Hosts.Config(redis.ConnectionString, Hosts.NewSinkDirectory());
        Support.Webhooks.FastDelivery(config);
        config["Webhooks:RetryDelaysMs:0"] = "400";
        // Attempts time out (and count as failures) only on a real stall: a loaded test machine must not use up the schedule.
        config["Webhooks:AttemptTimeoutMs"] = "5000";
        config["Webhooks:ClaimLeaseMs"] = "6000";
        var env = config.ToDictionary(kv => kv.Key.Replace(":", "__"), kv => kv.Value);
        await using var onboarding = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Onboarding"), env);
        var account = (await Steps.CreateAccountAsync(onboarding.Channel)).AccountId;
        var client = Support.Webhooks.Console(onboarding.ChannelWithToken, account);
        var created = await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance");

        var eventIds = Enumerable.Range(0, count).Select(i => $"{account}:low:{i:D3}").ToArray();
        foreach (var id in eventIds)
            await Streams.RedeliverAsync(redis.Database, Streams.Event(new PackageAlert
            {
                AccountId = account, PackageId = id.Replace(':', '-'), Label = "basic_authoritative", Kind = PackageAlertKind.LowBalance,
                Size = 100, Remaining = 19, RaisedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            }, id));
        await Eventually.AssertAsync(() => receiver.Received.Count >= 12, Steps.Timeout, "delivery under way");
        onboarding.Kill();
        var acceptedAtKill = receiver.Accepted.Select(r => r.Id).Distinct().Count();
        await onboarding.RestartAsync();

        try
        {
            await Eventually.AssertAsync(() => receiver.Accepted.Select(r => r.Id).Distinct().Count() >= count, TimeSpan.FromSeconds(60), "every event delivered");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Say where the missing ones stand: pending (still retrying), failed (schedule used up) or never created.
            var states = (await Support.Webhooks.DeliveriesAsync(client, account, created.Endpoint.EndpointId))
                .GroupBy(d => d.State).Select(g => $"{g.Key}: {g.Count()} (attempts {string.Join(",", g.Select(d => d.Attempts.Count))})");
            throw new Xunit.Sdk.XunitException($"{e.Message}; {receiver.Accepted.Select(r => r.Id).Distinct().Count()} of {count} accepted, " +
                $"{receiver.Received.Count} received; deliveries: {string.Join("; ", states)}");
        }
        Assert.True(acceptedAtKill < count, $"the kill came in the middle ({acceptedAtKill} of {count} accepted)");

        // One webhook-id per event, however many times it came (failed first attempt, repeats after the kill).
        var byEvent = receiver.Received.GroupBy(r => (string)JsonNode.Parse(r.Body)!["event_id"]!).ToList();
        Assert.Equal(eventIds.Order(), byEvent.Select(g => g.Key).Order());
        Assert.All(byEvent, g =>
        {
            Assert.Single(g.Select(r => r.Id).Distinct());
            Assert.Single(g.Select(r => r.Body).Distinct());
            Assert.Contains(g, r => r.Answered == 200);
        });
        var verifier = new StandardWebhook(created.Secret);
        foreach (var r in receiver.Received) verifier.Verify(r.Body, r.Headers);
        var deliveries = await Support.Webhooks.DeliveriesAsync(client, account, created.Endpoint.EndpointId);
        Assert.Equal(count, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal(WebhookDeliveryState.Delivered, d.State));
    }
}
