using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>R-PKG-6 under a crash: Onboarding as a real process, killed (SIGKILL) in the middle of delivering.</summary>
public sealed class NotificationCrashTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task R_PKG_6_killing_onboarding_in_the_middle_of_delivery_loses_and_doubles_no_notice_on_any_channel()
    {
        const int count = 60;
        var sink = Hosts.NewSinkDirectory();
        var env = Hosts.Config(redis.ConnectionString, sink).ToDictionary(kv => kv.Key.Replace(":", "__"), kv => kv.Value);
        env["Notifications__ClaimLeaseSeconds"] = "2";
        await using var onboarding = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Onboarding"), env);
        var account = await Steps.CreateAccountAsync(onboarding.Channel);
        var ids = Enumerable.Range(0, count).Select(i => $"{account.AccountId}:alert:{i:D3}").ToArray();

        foreach (var id in ids)
            await Streams.RedeliverAsync(redis.Database, Streams.Event(new PackageAlert
            {
                AccountId = account.AccountId, PackageId = id.Replace(':', '-'), Label = "basic_authoritative", Kind = PackageAlertKind.LowBalance,
                Size = 100, Remaining = 19, RaisedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            }, id));
        await Eventually.AssertAsync(async () => (await Sink.SmsAsync(sink)).Count >= 5, Steps.Timeout, "delivery under way");
        onboarding.Kill();
        var smsAtKill = (await Sink.SmsAsync(sink)).Count;
        await onboarding.RestartAsync();

        var inbox = await Eventually.GetAsync(() => Steps.AllInboxAsync(onboarding.Channel, account.AccountId), l => l.Count >= count, Steps.Timeout, "every notice in the inbox");
        await Eventually.AssertAsync(async () => (await Sink.EmailAsync(sink)).Count >= count && (await Sink.SmsAsync(sink)).Count >= count, Steps.Timeout, "every email and SMS");
        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(redis.Database, EventTopics.PackageAlert, "onboarding"), Steps.Timeout, "every alert acknowledged");

        Assert.True(smsAtKill < count, $"the kill came in the middle ({smsAtKill} of {count} SMS were out)");
        inbox = await Steps.AllInboxAsync(onboarding.Channel, account.AccountId);
        Assert.Equal(ids.Order(), inbox.Select(m => m.Body).Select(b => ids.Single(id => b.Contains(id.Replace(':', '-')))).Order());
        Assert.Equal(ids.Order(), (await Sink.EmailAsync(sink)).Select(l => l.EventId).Order());
        Assert.Equal(ids.Order(), (await Sink.SmsAsync(sink)).Select(l => l.EventId).Order());
    }
}
