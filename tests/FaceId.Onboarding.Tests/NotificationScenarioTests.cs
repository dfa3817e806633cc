using FaceId.Contracts;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Metering.Grpc;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.Packages.Grpc;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>
/// The scenario across Onboarding → Packages → Metering → notifications, all in process on one
/// real Redis over the Redis Streams transport (R-ONB-1, R-ONB-3, R-PKG-6).
/// </summary>
public sealed class NotificationScenarioTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly string[] Topics =
        [EventTopics.PackageAlert, EventTopics.PackageDelivered, EventTopics.ApplicationReviewed];

    [Fact]
    public async Task R_PKG_6_apply_approve_trial_100_calls_then_low_balance_and_exhausted_notices_arrive_exactly_once_in_inbox_email_and_sms()
    {
        var sink = Hosts.NewSinkDirectory();
        await using var onboarding = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, sink);
        await using var packages = Hosts.InProcess<PackagesGrpcService>(redis.ConnectionString, sink);
        await using var metering = Hosts.InProcess<MeteringGrpcService>(redis.ConnectionString, sink);

        // Apply and approve (R-ONB-1, R-ONB-2); the trial arrives from the activation event (R-ONB-3).
        var account = await Steps.CreateAccountAsync(onboarding.Channel, "finance@example.com", "13600000002");
        var a = account.AccountId;
        var application = await Steps.SubmitAsync(onboarding.Channel, a, new Contacts { Email = "finance@example.com", Mobile = "13600000002", Name = "Wang" });
        await Steps.ReviewAsync(onboarding.Channel, application.ApplicationId, approve: true);
        var trial = await Steps.WaitForPackagesAsync(packages.Channel, a, 6);
        var basic = trial.Single(p => p.Label == "basic_authoritative");

        // 100 calls on one trial label, in one batch: the package goes 100 → 0.
        var at = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        var batch = new RecordUsageBatchRequest();
        for (var i = 0; i < 100; i++)
            batch.Records.Add(new UsageRecord
            {
                RequestId = $"{a}-call-{i:D3}", AccountId = a, Label = "basic_authoritative", AccessMode = AccessMode.Saas, ReturnCode = "0", OccurredAt = at,
            });
        var outcomes = (await new MeteringService.MeteringServiceClient(metering.Channel).RecordUsageBatchAsync(batch)).Outcomes;
        Assert.All(outcomes, o => Assert.Equal((ChargeKind.Package, basic.PackageId), (o.Kind, o.PackageId)));
        Assert.Equal(0, outcomes[^1].PackageRemaining);

        var lowId = $"alert:{basic.PackageId}:PACKAGE_ALERT_KIND_LOW_BALANCE";
        var exhaustedId = $"alert:{basic.PackageId}:PACKAGE_ALERT_KIND_EXHAUSTED";
        string[] alertIds = [lowId, exhaustedId];
        var inbox = await Eventually.GetAsync(() => Steps.AllInboxAsync(onboarding.Channel, a),
            l => l.Count(m => m.Kind is "package.low_balance" or "package.exhausted") == 2, Steps.Timeout, "both alerts in the inbox");
        await Eventually.AssertAsync(async () =>
                (await Sink.EmailAsync(sink)).Count(l => alertIds.Contains(l.EventId)) == 2 && (await Sink.SmsAsync(sink)).Count(l => alertIds.Contains(l.EventId)) == 2,
            Steps.Timeout, "both alerts by email and SMS");
        var low = Assert.Single(inbox, m => m.Kind == "package.low_balance");
        Assert.Contains("19/100", low.Body); // the first time the remaining fell below 20 % of the size

        // Redeliver both alert events at the transport: as they are, and once more with the
        // consumer's processed-event marks gone, so the handler really runs again.
        var alerts = (await Streams.EventsAsync(redis.Database, EventTopics.PackageAlert, basic.PackageId)).DistinctBy(e => e.Id).ToList();
        Assert.Equal(alertIds.Order(), alerts.Select(e => e.Id).Order());
        foreach (var e in alerts) await Streams.RedeliverAsync(redis.Database, e);
        await AllConsumedAsync();
        foreach (var e in alerts)
        {
            await redis.Database.KeyDeleteAsync("evt:done:onboarding:" + e.Id);
            await Streams.RedeliverAsync(redis.Database, e);
        }
        await AllConsumedAsync();
        await Eventually.AssertAsync(async () => await redis.Database.KeyExistsAsync("evt:done:onboarding:" + lowId)
                                                && await redis.Database.KeyExistsAsync("evt:done:onboarding:" + exhaustedId),
            Steps.Timeout, "the replays were handled");

        // Exactly once per (event, channel): the two alerts, the approval and the six deliveries
        // (this test's sink folder and Redis hold this account only).
        inbox = await Eventually.GetAsync(() => Steps.AllInboxAsync(onboarding.Channel, a), l => l.Count >= 9, Steps.Timeout, "nine notices in the inbox");
        await Eventually.AssertAsync(async () => (await Sink.EmailAsync(sink)).Count >= 9 && (await Sink.SmsAsync(sink)).Count >= 9,
            Steps.Timeout, "nine emails and nine SMS");
        await AllConsumedAsync();
        inbox = await Steps.AllInboxAsync(onboarding.Channel, a);
        var email = await Sink.EmailAsync(sink);
        var sms = await Sink.SmsAsync(sink);
        string[] expected =
        [
            "application.approved", "package.delivered", "package.delivered", "package.delivered", "package.delivered", "package.delivered",
            "package.delivered", "package.exhausted", "package.low_balance",
        ];
        Assert.Equal(expected, inbox.Select(m => m.Kind).Order());
        Assert.Equal(expected, email.Select(l => l.Kind).Order());
        Assert.Equal(expected, sms.Select(l => l.Kind).Order());
        Assert.Equal(9, email.Select(l => l.EventId).Distinct().Count());
        Assert.All(email, l => Assert.Equal("finance@example.com", l.To));
        Assert.All(sms, l => Assert.Equal("13600000002", l.To));
        Assert.Equal(9, (await Steps.InboxAsync(onboarding.Channel, a)).UnreadCount);
    }

    private async Task AllConsumedAsync() =>
        await Eventually.AssertAsync(async () =>
        {
            foreach (var topic in Topics)
                if (!await Streams.ConsumedAllAsync(redis.Database, topic, "onboarding")) return false;
            return true;
        }, Steps.Timeout, "onboarding consumed its topics");
}
