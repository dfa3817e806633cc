using System.Text;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>R-PKG-6 by email through SMTP (MailKit) when Notifications:Smtp:Host is configured.</summary>
public sealed class SmtpEmailTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task R_PKG_6_with_an_SMTP_host_configured_email_goes_through_SMTP_once_with_a_stable_Message_ID()
    {
        await using var smtp = new SmtpCapture();
        var sink = Hosts.NewSinkDirectory();
        await using var host = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, sink, configure: c =>
        {
            c["Notifications:Smtp:Host"] = "127.0.0.1";
            c["Notifications:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            c["Notifications:Smtp:Security"] = "None";
            c["Notifications:Smtp:From"] = "alerts@faceid.example";
        });
        Assert.IsType<SmtpEmailSender>(host.Services.GetRequiredService<IEmailSender>());
        var account = await Steps.CreateAccountAsync(host.Channel, "owner@example.com", "13800000003");
        var id = TestIds.New("alert");
        var cloudEvent = Streams.Event(new PackageAlert
        {
            AccountId = account.AccountId, PackageId = "pkg-1", Label = "eid_authoritative", Kind = PackageAlertKind.Exhausted, Size = 100, Remaining = 0,
            RaisedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }, id);

        await host.Services.GetRequiredService<IEventBus>().PublishAsync(cloudEvent);
        await Eventually.AssertAsync(() => !smtp.Messages.IsEmpty && File.Exists(Path.Combine(sink, "sms.jsonl")), Steps.Timeout, "an email over SMTP and an SMS in the sink");
        // Replayed with the processed-event mark gone: the handler runs again, nothing is sent again.
        await redis.Database.KeyDeleteAsync("evt:done:onboarding:" + id);
        await Streams.RedeliverAsync(redis.Database, cloudEvent);
        await Eventually.AssertAsync(async () => await redis.Database.KeyExistsAsync("evt:done:onboarding:" + id)
                                                && await Streams.ConsumedAllAsync(redis.Database, EventTopics.PackageAlert, "onboarding"),
            Steps.Timeout, "the replay was handled");

        var mail = Assert.Single(smtp.Messages);
        Assert.Equal("<alerts@faceid.example>", mail.From);
        Assert.Equal(["<owner@example.com>"], mail.To);
        var message = MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(mail.Data)));
        Assert.Equal(SmtpEmailSender.MessageIdFor(id, "email"), message.MessageId);
        Assert.Equal("资源包已用完 / Package used up", message.Subject);
        Assert.Contains("pkg-1", message.TextBody);
        Assert.Equal("package.exhausted", message.Headers["X-FaceId-Notification"]);
        Assert.False(File.Exists(Path.Combine(sink, "email.jsonl")));
        Assert.Single(await Sink.SmsAsync(sink));
    }
}
