using System.Collections.Concurrent;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.EventBus;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>
/// R-PKG-6 (and the application result of R-ONB-1, arrears R-BIL-4, refunds R-REF-3) on the
/// delivery side: each event becomes one notice for the main account, delivered exactly once per
/// (event, channel) on the in-site inbox, email and SMS.
/// </summary>
public sealed class NotificationTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly string[] NotifyingTopics =
        [EventTopics.PackageAlert, EventTopics.PackageDelivered, EventTopics.RefundCompleted, EventTopics.BillIssued, EventTopics.ServiceSuspended, EventTopics.ApplicationReviewed];

    private static Timestamp Now => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

    private static PackageAlert Alert(string accountId, PackageAlertKind kind, long remaining = 19) => new()
    {
        AccountId = accountId, PackageId = TestIds.New("pkg"), Label = "basic_authoritative", Kind = kind, Size = 100, Remaining = remaining,
        ExpiresAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2027, 11, 26, 0, 0, 0, TimeSpan.FromHours(8))), RaisedAt = Now,
    };

    private static PackageDelivered Delivered(string accountId) => new()
    {
        AccountId = accountId, PackageId = TestIds.New("pkg"), Label = "basic_self_photo", Size = 1000, PriceFen = 14500, Free = false,
        PurchasedAt = Now, ValidFrom = Now, ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddYears(1)), PriceBook = "2021-06",
    };

    private static Task PublishAsync<T>(InProcessService<OnboardingGrpcService> host, T message, string id) where T : Google.Protobuf.IMessage<T>, new() =>
        host.Services.GetRequiredService<IEventBus>().PublishAsync(Streams.Event(message, id));

    private async Task AllConsumedAsync() =>
        await Eventually.AssertAsync(async () =>
        {
            foreach (var topic in NotifyingTopics)
                if (!await Streams.ConsumedAllAsync(redis.Database, topic, "onboarding")) return false;
            return true;
        }, Steps.Timeout, "onboarding consumed every notifying topic");

    private static async Task<(IReadOnlyList<SinkLine> Email, IReadOnlyList<SinkLine> Sms)> SinkForAsync(string sink, IReadOnlyCollection<string> eventIds) =>
        ((await Sink.EmailAsync(sink)).Where(l => eventIds.Contains(l.EventId)).ToList(),
         (await Sink.SmsAsync(sink)).Where(l => eventIds.Contains(l.EventId)).ToList());

    [Fact]
    public async Task R_PKG_6_each_notifiable_event_becomes_one_notice_in_the_inbox_by_email_and_by_sms_and_logs_hold_no_addresses_or_texts()
    {
        var sink = Hosts.NewSinkDirectory();
        var logs = new CapturingLoggerProvider();
        await using var host = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, sink,
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var account = await Steps.CreateAccountAsync(host.Channel, "billing@example.com", "13912345678");
        var a = account.AccountId;
        var events = new Dictionary<string, string>(); // event id → expected kind ("" = no notice)
        async Task Publish<T>(T message, string kind) where T : Google.Protobuf.IMessage<T>, new()
        {
            var id = TestIds.New("evt");
            events[id] = kind;
            await PublishAsync(host, message, id);
        }

        await Publish(Alert(a, PackageAlertKind.LowBalance), "package.low_balance");
        await Publish(Alert(a, PackageAlertKind.Exhausted, 0), "package.exhausted");
        await Publish(Alert(a, PackageAlertKind.Expiring7D, 40), "package.expiring_7d");
        await Publish(Alert(a, PackageAlertKind.Expiring1D, 40), "package.expiring_1d");
        await Publish(Alert(a, PackageAlertKind.Expired, 40), "package.expired");
        await Publish(Delivered(a), "package.delivered");
        await Publish(new RefundCompleted { RefundId = TestIds.New("rf"), AccountId = a, PackageId = "pkg-9", AmountFen = 14500, CompletedAt = Now }, "refund.completed");
        await Publish(new BillIssued { AccountId = a, BillId = "bill-1", TotalFen = 123456, InArrears = true, PeriodStart = Now, PeriodEnd = Now }, "billing.arrears");
        await Publish(new BillIssued { AccountId = a, BillId = "bill-2", TotalFen = 100, InArrears = false, PeriodStart = Now, PeriodEnd = Now }, "");
        await Publish(new ServiceSuspended { AccountId = a, BillId = "bill-1", SuspendedAt = Now }, "service.suspended");
        var notifying = events.Where(e => e.Value != "").ToDictionary();

        var inbox = await Eventually.GetAsync(() => Steps.AllInboxAsync(host.Channel, a), l => l.Count >= notifying.Count, Steps.Timeout, "9 inbox messages");
        await Eventually.AssertAsync(async () => await SinkForAsync(sink, events.Keys) is var s && s.Email.Count >= notifying.Count && s.Sms.Count >= notifying.Count,
            Steps.Timeout, "9 emails and 9 SMS in the sink");
        await AllConsumedAsync();
        inbox = await Steps.AllInboxAsync(host.Channel, a);
        var (email, sms) = await SinkForAsync(sink, events.Keys);

        Assert.Equal(notifying.Values.Order(), inbox.Select(m => m.Kind).Order());
        Assert.All(inbox, m => Assert.False(m.Read));
        Assert.Equal(notifying.Count, (await Steps.InboxAsync(host.Channel, a)).UnreadCount);
        Assert.Equal(notifying.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), email.OrderBy(l => l.EventId).Select(l => (l.EventId, l.Kind)));
        Assert.Equal(notifying.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), sms.OrderBy(l => l.EventId).Select(l => (l.EventId, l.Kind)));
        Assert.All(email, l => Assert.Equal(("email", "billing@example.com"), (l.Channel, l.To)));
        Assert.All(sms, l => Assert.Equal(("sms", "13912345678"), (l.Channel, l.To)));
        var low = Assert.Single(inbox, m => m.Kind == "package.low_balance");
        Assert.Equal("资源包余量不足 / Package balance low", low.Title);
        Assert.Contains("19/100", low.Body);
        Assert.Contains("1234.56", Assert.Single(inbox, m => m.Kind == "billing.arrears").Body);
        Assert.Contains("145.00", Assert.Single(inbox, m => m.Kind == "refund.completed").Body);
        Assert.Contains("2027-11-26", Assert.Single(inbox, m => m.Kind == "package.expiring_7d").Body);

        // Never an address or a message text in the logs at Information or above.
        var logged = logs.Messages.Where(m => m.Level >= LogLevel.Information).Select(m => m.Text).ToList();
        Assert.Contains(logged, t => t.Contains("package.low_balance"));
        Assert.DoesNotContain(logged, t => t.Contains("billing@example.com") || t.Contains("13912345678") || t.Contains("19/100") || t.Contains("余量"));
    }

    [Fact]
    public async Task R_ONB_1_the_application_result_goes_to_the_applicant_contact_in_the_inbox_by_email_and_by_sms()
    {
        var sink = Hosts.NewSinkDirectory();
        await using var host = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, sink);
        var account = await Steps.CreateAccountAsync(host.Channel);
        var applicant = new Contacts { Email = "applicant@example.com", Mobile = "13700000001", Name = "Li Lei" };

        var first = await Steps.SubmitAsync(host.Channel, account.AccountId, applicant);
        await Steps.ReviewAsync(host.Channel, first.ApplicationId, approve: false, reason: "营业执照不清晰");
        var second = await Steps.SubmitAsync(host.Channel, account.AccountId, applicant);
        await Steps.ReviewAsync(host.Channel, second.ApplicationId, approve: true);

        var ids = new[] { "reviewed:" + first.ApplicationId, "reviewed:" + second.ApplicationId };
        var inbox = await Eventually.GetAsync(() => Steps.AllInboxAsync(host.Channel, account.AccountId), l => l.Count >= 2, Steps.Timeout, "two results in the inbox");
        await Eventually.AssertAsync(async () => await SinkForAsync(sink, ids) is var s && s.Email.Count >= 2 && s.Sms.Count >= 2, Steps.Timeout, "two emails and two SMS");
        var (email, sms) = await SinkForAsync(sink, ids);

        Assert.Equal(["application.approved", "application.rejected"], inbox.Select(m => m.Kind).Order());
        Assert.Contains("营业执照不清晰", Assert.Single(inbox, m => m.Kind == "application.rejected").Body);
        Assert.Equal(2, email.Count);
        Assert.Equal(2, sms.Count);
        Assert.All(email, l => Assert.Equal("applicant@example.com", l.To));
        Assert.All(sms, l => Assert.Equal("13700000001", l.To));
    }

    [Fact]
    public async Task R_PKG_6_an_alert_redelivered_and_replayed_after_its_processed_mark_is_gone_is_notified_once_per_channel()
    {
        var sink = Hosts.NewSinkDirectory();
        await using var host = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, sink);
        var account = await Steps.CreateAccountAsync(host.Channel);
        var id = TestIds.New("alert");
        var cloudEvent = Streams.Event(Alert(account.AccountId, PackageAlertKind.LowBalance), id);
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(cloudEvent);
        await Eventually.AssertAsync(async () => await SinkForAsync(sink, [id]) is var s && s.Email.Count == 1 && s.Sms.Count == 1, Steps.Timeout, "first delivery");

        await Streams.RedeliverAsync(redis.Database, cloudEvent);   // the same entry again: the bus's fast path
        await AllConsumedAsync();
        await redis.Database.KeyDeleteAsync("evt:done:onboarding:" + id); // the handler itself runs again
        await Streams.RedeliverAsync(redis.Database, cloudEvent);
        await AllConsumedAsync();
        await Eventually.AssertAsync(async () => await redis.Database.KeyExistsAsync("evt:done:onboarding:" + id), Steps.Timeout, "replay handled");

        var inbox = await Steps.AllInboxAsync(host.Channel, account.AccountId);
        var (email, sms) = await SinkForAsync(sink, [id]);
        Assert.Single(inbox);
        Assert.Single(email);
        Assert.Single(sms);
    }

    [Fact]
    public async Task R_PKG_6_a_failing_sms_provider_is_retried_and_neither_the_inbox_nor_email_doubles()
    {
        var sink = Hosts.NewSinkDirectory();
        var logs = new CapturingLoggerProvider();
        await using var host = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, sink, services: s =>
        {
            s.AddSingleton<ILoggerProvider>(logs);
            s.AddSingleton<ISmsSender>(sp => new FlakySmsSender(ActivatorUtilities.CreateInstance<FileSmsSender>(sp), failures: 2));
        });
        var flaky = (FlakySmsSender)host.Services.GetRequiredService<ISmsSender>();
        var account = await Steps.CreateAccountAsync(host.Channel);
        var id = TestIds.New("alert");

        await PublishAsync(host, Alert(account.AccountId, PackageAlertKind.Exhausted, 0), id);

        await Eventually.AssertAsync(async () => (await SinkForAsync(sink, [id])).Sms.Count == 1, Steps.Timeout, "the SMS got through on the third attempt");
        await AllConsumedAsync();
        Assert.Equal(3, flaky.Attempts);
        var (email, sms) = await SinkForAsync(sink, [id]);
        Assert.Single(email);
        Assert.Single(sms);
        Assert.Single(await Steps.AllInboxAsync(host.Channel, account.AccountId));
        // The provider's error quoted the number: it never reaches the logs at Information or above.
        var logged = logs.Messages.Where(m => m.Level >= LogLevel.Information).Select(m => m.Text).ToList();
        Assert.Contains(logged, t => t.Contains(nameof(NotificationSendException)) || t.Contains("it will be retried"));
        Assert.DoesNotContain(logged, t => t.Contains(Steps.Mobile));
    }

    [Fact]
    public async Task R_PKG_6_a_delivery_claimed_by_a_crashed_attempt_is_sent_after_its_lease_and_one_marked_sent_is_never_sent_again()
    {
        var sink = Hosts.NewSinkDirectory();
        await using var host = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, sink,
            configure: c => c["Notifications:ClaimLeaseSeconds"] = "1");
        var account = await Steps.CreateAccountAsync(host.Channel);
        var id = TestIds.New("alert");
        // A previous attempt sent the email, then claimed the SMS and crashed before sending it.
        await redis.Database.StringSetAsync(NotificationStore.MarkerKey(account.AccountId, id, "email"), DeliveryMarker.Sent);
        await redis.Database.StringSetAsync(NotificationStore.MarkerKey(account.AccountId, id, "sms"), DeliveryMarker.Claimed("crashed"), TimeSpan.FromSeconds(1));

        await PublishAsync(host, Alert(account.AccountId, PackageAlertKind.LowBalance), id);

        await Eventually.AssertAsync(async () => (await SinkForAsync(sink, [id])).Sms.Count == 1, Steps.Timeout, "the SMS is sent once the crashed claim expired");
        await AllConsumedAsync();
        var (email, sms) = await SinkForAsync(sink, [id]);
        Assert.Empty(email);
        Assert.Single(sms);
        Assert.Equal(DeliveryMarker.Sent, (string?)await redis.Database.StringGetAsync(NotificationStore.MarkerKey(account.AccountId, id, "sms")));
        Assert.Single(await Steps.AllInboxAsync(host.Channel, account.AccountId));
    }

    [Fact]
    public async Task R_PKG_6_the_inbox_lists_newest_first_in_pages_filters_unread_and_marks_read()
    {
        await using var host = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, Hosts.NewSinkDirectory());
        var client = Steps.Client(host.Channel);
        var account = await Steps.CreateAccountAsync(host.Channel);
        var a = account.AccountId;
        for (var i = 0; i < 5; i++)
        {
            await PublishAsync(host, Delivered(a), TestIds.New("delivered"));
            var n = i + 1;
            await Eventually.AssertAsync(async () => (await Steps.InboxAsync(host.Channel, a)).Messages.Count == n, Steps.Timeout, $"{n} messages");
        }

        var p1 = await Steps.InboxAsync(host.Channel, a, pageSize: 2);
        var p2 = await Steps.InboxAsync(host.Channel, a, pageSize: 2, pageToken: p1.NextPageToken);
        var p3 = await Steps.InboxAsync(host.Channel, a, pageSize: 2, pageToken: p2.NextPageToken);
        Assert.Equal([2, 2, 1], new[] { p1.Messages.Count, p2.Messages.Count, p3.Messages.Count });
        Assert.Empty(p3.NextPageToken);
        var all = p1.Messages.Concat(p2.Messages).Concat(p3.Messages).ToList();
        Assert.Equal(5, all.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(all.Select(m => m.CreatedAt.ToDateTimeOffset()).OrderDescending(), all.Select(m => m.CreatedAt.ToDateTimeOffset()));
        Assert.All(all, m => Assert.Equal(a, m.AccountId));
        Assert.Equal(5, p1.UnreadCount);

        var marked = new[] { all[0].MessageId, all[3].MessageId };
        Assert.Equal(3, (await client.MarkInboxReadAsync(new MarkInboxReadRequest { AccountId = a, MessageIds = { marked } })).UnreadCount);
        Assert.Equal(3, (await client.MarkInboxReadAsync(new MarkInboxReadRequest { AccountId = a, MessageIds = { marked } })).UnreadCount);
        Assert.Equal(3, (await client.MarkInboxReadAsync(new MarkInboxReadRequest { AccountId = a, MessageIds = { "msg_unknown" } })).UnreadCount);

        var unread = await Steps.InboxAsync(host.Channel, a, unreadOnly: true);
        Assert.Equal(3, unread.UnreadCount);
        Assert.Equal(all.Where(m => !marked.Contains(m.MessageId)).Select(m => m.MessageId), unread.Messages.Select(m => m.MessageId));
        Assert.All(unread.Messages, m => Assert.False(m.Read));
        var everything = await Steps.InboxAsync(host.Channel, a);
        Assert.Equal(marked.Order(), everything.Messages.Where(m => m.Read).Select(m => m.MessageId).Order());

        // Bad input and the wrong account kind.
        Assert.Equal(["page.page_size"], (await RpcAssert.ViolationsAsync(() => Steps.InboxAsync(host.Channel, a, pageSize: 501))).Select(v => v.Field));
        Assert.Equal(["page.page_token"], (await RpcAssert.ViolationsAsync(() => Steps.InboxAsync(host.Channel, a, pageToken: "nope"))).Select(v => v.Field));
        Assert.Equal(["message_ids"], (await RpcAssert.ViolationsAsync(() => client.MarkInboxReadAsync(new MarkInboxReadRequest { AccountId = a }).ResponseAsync)).Select(v => v.Field));
        Assert.Equal(["message_ids[1]"], (await RpcAssert.ViolationsAsync(() =>
            client.MarkInboxReadAsync(new MarkInboxReadRequest { AccountId = a, MessageIds = { "ok", "not ok" } }).ResponseAsync)).Select(v => v.Field));
        var sub = await Steps.CreateSubAccountAsync(host.Channel, a);
        Assert.Equal("NOT_A_MAIN_ACCOUNT", await RpcAssert.FailedPreconditionAsync(() => Steps.InboxAsync(host.Channel, sub.AccountId)));
        await RpcAssert.NotFoundAsync(() => Steps.InboxAsync(host.Channel, TestIds.New("acct")));
    }

    [Fact]
    public async Task R_PKG_6_the_file_sink_appends_one_line_per_event_and_channel_however_often_it_is_asked()
    {
        var dir = Hosts.NewSinkDirectory();
        var sink = new NotificationFileSink(Microsoft.Extensions.Options.Options.Create(new NotificationOptions { SinkDirectory = dir }), TimeProvider.System);
        var message = new OutboundMessage("evt-1", "sms", "13800138000", "package.exhausted", "资源包已用完 / Package used up", "text");

        var appended = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => sink.AppendOnceAsync(NotificationFileSink.SmsFile, message, CancellationToken.None)));
        Assert.Single(appended, x => x);
        // A torn line left by a crash mid-write does not swallow the next message.
        await File.AppendAllTextAsync(Path.Combine(dir, NotificationFileSink.SmsFile), "{\"eventId\":\"evt-torn");
        Assert.True(await sink.AppendOnceAsync(NotificationFileSink.SmsFile, message with { EventId = "evt-2" }, CancellationToken.None));
        Assert.False(await sink.AppendOnceAsync(NotificationFileSink.SmsFile, message with { EventId = "evt-2" }, CancellationToken.None));

        var lines = (await File.ReadAllLinesAsync(Path.Combine(dir, NotificationFileSink.SmsFile))).ToList();
        Assert.Equal(3, lines.Count);
        Assert.StartsWith("{\"eventId\":\"evt-1\",\"channel\":\"sms\",\"to\":\"13800138000\",\"kind\":\"package.exhausted\",\"title\":\"资源包已用完 / Package used up\",\"body\":\"text\",\"at\":\"", lines[0]);
        Assert.StartsWith("{\"eventId\":\"evt-2\"", lines[2]);
    }

    private sealed class FlakySmsSender(ISmsSender inner, int failures) : ISmsSender
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _attempts) <= failures
                ? throw new IOException($"SMS provider refused {message.To}: unavailable")
                : inner.SendAsync(message, cancellationToken);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Text)> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Messages.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception)));
        }
    }
}
