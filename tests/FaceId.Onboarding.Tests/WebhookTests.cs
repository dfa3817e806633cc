using System.Text.Json.Nodes;
using FaceId.Auth;
using FaceId.Contracts.Events.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.EventBus;
using WebhookStore = FaceId.Onboarding.Application.Webhooks.WebhookStore;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>
/// Customer webhooks (docs/webhooks.md) against a real HTTP receiver (Kestrel on a loopback port
/// inside the test, allow-listed): signatures checked with the StandardWebhooks library, retries
/// with back-off, a timeout, rotation, disabling with an inbox notice, and bad input.
/// </summary>
public sealed class WebhookTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static Timestamp Now => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

    private InProcessService<OnboardingGrpcService> Host(Action<Dictionary<string, string?>>? configure = null, bool allowLoopback = true) =>
        Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, Hosts.NewSinkDirectory(), c =>
        {
            Support.Webhooks.FastDelivery(c, allowLoopback);
            configure?.Invoke(c);
        });

    private static Task PublishAsync<T>(InProcessService<OnboardingGrpcService> host, T message, string id) where T : Google.Protobuf.IMessage<T>, new() =>
        host.Services.GetRequiredService<IEventBus>().PublishAsync(Streams.Event(message, id));

    private static PackageAlert LowBalance(string accountId) => new()
    {
        AccountId = accountId, PackageId = TestIds.New("pkg"), Label = "basic_authoritative", Kind = PackageAlertKind.LowBalance, Size = 100, Remaining = 19,
        ExpiresAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2027, 11, 26, 0, 0, 0, TimeSpan.FromHours(8))), RaisedAt = Now,
    };

    private static async Task<(OnboardingService.OnboardingServiceClient Client, string Account)> ConsoleAsync(InProcessService<OnboardingGrpcService> host)
    {
        var account = await Steps.CreateAccountAsync(host.Channel);
        return (Support.Webhooks.Console(host.ChannelWithToken, account.AccountId), account.AccountId);
    }

    [Fact]
    public async Task Deliveries_are_signed_per_Standard_Webhooks_verified_by_the_library_and_carry_fen_with_exact_CNY_and_RFC3339_instants()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = Host();
        var (client, account) = await ConsoleAsync(host);
        var created = await Support.Webhooks.CreateAsync(client, account, receiver.Url, "billing.bill_issued", "billing.arrears", "refund.completed");
        Assert.StartsWith("whsec_", created.Secret);
        Assert.Equal(32, Convert.FromBase64String(created.Secret["whsec_".Length..]).Length);

        var refund = Streams.Event(new RefundCompleted { RefundId = "ref_1", AccountId = account, PackageId = "pkg_1", AmountFen = 14505, CompletedAt = Now }, TestIds.New("evt"));
        await PublishAsync(host, new BillIssued { AccountId = account, BillId = "bill-2026-11", TotalFen = 123456, InArrears = true, PeriodStart = Now, PeriodEnd = Now }, TestIds.New("evt"));
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(refund);
        await PublishAsync(host, LowBalance(account), TestIds.New("evt")); // not subscribed
        await Streams.RedeliverAsync(redis.Database, refund); // the same event again: no second delivery

        await Eventually.AssertAsync(() => receiver.Accepted.Count >= 3, Steps.Timeout, "three deliveries");
        await RedisSnapshot.SettledAsync(redis.Connection, WebhookStore.DueKey); // nothing more can be sent
        var accepted = receiver.Accepted;
        Assert.Equal(3, accepted.Count);
        var verifier = new StandardWebhook(created.Secret);
        foreach (var r in accepted) verifier.Verify(r.Body, r.Headers); // throws when the signature does not match
        var stranger = new StandardWebhook("whsec_" + Convert.ToBase64String(new byte[32]));
        Assert.Throws<WebhookVerificationException>(() => stranger.Verify(accepted[0].Body, accepted[0].Headers));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(accepted[0].Body + " ", accepted[0].Headers));

        var bodies = accepted.Select(r => JsonNode.Parse(r.Body)!).ToDictionary(j => (string)j["type"]!);
        Assert.Equal(["billing.arrears", "billing.bill_issued", "refund.completed"], bodies.Keys.Order());
        var bill = bodies["billing.bill_issued"]["data"]!;
        Assert.Equal(123456, (long)bill["total_fen"]!);
        Assert.Equal("1234.56", (string)bill["total_cny"]!);
        Assert.Equal("145.05", (string)bodies["refund.completed"]["data"]!["amount_cny"]!);
        Assert.Equal(account, (string)bodies["refund.completed"]["account_id"]!);
        Assert.True(DateTimeOffset.TryParseExact((string)bodies["refund.completed"]["data"]!["completed_at"]!, "yyyy-MM-dd'T'HH:mm:ss.FFFzzz", null, default, out _));

        var deliveries = await Support.Webhooks.DeliveriesAsync(client, account, created.Endpoint.EndpointId);
        Assert.Equal(accepted.Select(r => r.Id).Order(), deliveries.Select(d => d.DeliveryId).Order());
        Assert.All(deliveries, d => Assert.Equal(WebhookDeliveryState.Delivered, d.State));
        Assert.All(deliveries, d => Assert.Equal(200, Assert.Single(d.Attempts).StatusCode));
    }

    [Fact]
    public async Task A_refused_refund_and_a_rejected_merchant_id_reach_a_subscribed_endpoint_once_each_signed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = Host();
        var account = await Steps.OpenServiceAsync(host.Channel);
        await Steps.VerifyAsync(host.Channel, account);
        var client = Support.Webhooks.Console(host.ChannelWithToken, account);
        var created = await Support.Webhooks.CreateAsync(client, account, receiver.Url, "refund.rejected", "merchant_id.rejected");

        var refund = Streams.Event(new RefundRejected
        {
            RefundId = "ref_7", AccountId = account, PackageId = "pkg_7", Label = "basic_authoritative", AmountFen = 93000,
            Reason = "REFUND_PACKAGE_USED", RejectedAt = Now,
        }, "refund-rejected:ref_7");
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(refund);
        await Streams.RedeliverAsync(redis.Database, refund); // the same event again: no second delivery
        // The real path: Onboarding's review script writes MerchantIdRejected, its relay publishes it, its handler queues the webhook.
        var application = await Steps.ApplyMerchantIdAsync(host.Channel, account);
        await Steps.ReviewMerchantIdAsync(host.Channel, application.ApplicationId, approve: false, reason: "营业执照已过期");
        await Steps.ReviewMerchantIdAsync(host.Channel, application.ApplicationId, approve: false, reason: "营业执照已过期");

        await Eventually.AssertAsync(() => receiver.Accepted.Count >= 2, Steps.Timeout, "two deliveries");
        await RedisSnapshot.SettledAsync(redis.Connection, WebhookStore.DueKey); // nothing more can be sent
        var accepted = receiver.Accepted;
        Assert.Equal(2, accepted.Count);
        var verifier = new StandardWebhook(created.Secret);
        foreach (var r in accepted) verifier.Verify(r.Body, r.Headers);

        var bodies = accepted.Select(r => JsonNode.Parse(r.Body)!).ToDictionary(j => (string)j["type"]!);
        var refused = bodies["refund.rejected"];
        Assert.Equal("refund-rejected:ref_7", (string)refused["event_id"]!);
        Assert.Equal(93000, (long)refused["data"]!["amount_fen"]!);
        Assert.Equal("930.00", (string)refused["data"]!["amount_cny"]!);
        Assert.Equal(("ref_7", "pkg_7", "basic_authoritative", "REFUND_PACKAGE_USED"), ((string)refused["data"]!["refund_id"]!,
            (string)refused["data"]!["package_id"]!, (string)refused["data"]!["label"]!, (string)refused["data"]!["reason"]!));
        Assert.True(DateTimeOffset.TryParseExact((string)refused["data"]!["rejected_at"]!, "yyyy-MM-dd'T'HH:mm:ss.FFFzzz", null, default, out _));
        var merchant = bodies["merchant_id.rejected"];
        Assert.Equal("merchant-rejected:" + application.ApplicationId, (string)merchant["event_id"]!);
        Assert.Equal(account, (string)merchant["account_id"]!);
        Assert.Equal((application.ApplicationId, "营业执照已过期"), ((string)merchant["data"]!["application_id"]!, (string)merchant["data"]!["reason"]!));
        Assert.EndsWith("+08:00", (string)merchant["data"]!["rejected_at"]!);
    }

    [Fact]
    public async Task A_receiver_failing_the_first_three_attempts_gets_exactly_one_accepted_delivery_per_event_with_one_webhook_id_and_growing_waits()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Behave = (_, n) => (n <= 3 ? 503 : 200, TimeSpan.Zero);
        await using var host = Host();
        var (client, account) = await ConsoleAsync(host);
        var endpoint = (await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance")).Endpoint;
        for (var i = 0; i < 5; i++) await PublishAsync(host, LowBalance(account), TestIds.New("evt"));

        await Eventually.AssertAsync(() => receiver.Accepted.Count >= 5, Steps.Timeout, "five accepted deliveries");
        await RedisSnapshot.SettledAsync(redis.Connection, WebhookStore.DueKey); // nothing more can be sent
        Assert.Equal(5, receiver.Accepted.Count);
        Assert.Equal(5, receiver.Accepted.Select(r => r.Id).Distinct().Count());
        foreach (var group in receiver.Received.GroupBy(r => r.Id))
        {
            Assert.Equal([503, 503, 503, 200], group.Select(r => r.Answered));
            Assert.Single(group.Select(r => r.Body).Distinct());
            var at = group.Select(r => r.At).ToList();
            // Waits of 100, 200, 400 ms, each ± 20 %: exponential back-off with jitter.
            Assert.True(at[1] - at[0] >= TimeSpan.FromMilliseconds(75), $"first wait {at[1] - at[0]}");
            Assert.True(at[2] - at[1] >= TimeSpan.FromMilliseconds(155), $"second wait {at[2] - at[1]}");
            Assert.True(at[3] - at[2] >= TimeSpan.FromMilliseconds(315), $"third wait {at[3] - at[2]}");
        }
        var deliveries = await Support.Webhooks.DeliveriesAsync(client, account, endpoint.EndpointId);
        Assert.Equal(5, deliveries.Count);
        Assert.All(deliveries, d =>
        {
            Assert.Equal(WebhookDeliveryState.Delivered, d.State);
            Assert.Equal([503, 503, 503, 200], d.Attempts.Select(a => a.StatusCode));
            Assert.Equal(["http_503", "http_503", "http_503", ""], d.Attempts.Select(a => a.Error));
        });
    }

    [Fact]
    public async Task An_attempt_that_times_out_is_retried_and_the_log_shows_the_timeout()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // The first answer would take 10 s: an attempt cut at 800 ms proves the bound, with room for a loaded machine.
        receiver.Behave = (_, n) => (200, n == 1 ? TimeSpan.FromSeconds(10) : TimeSpan.Zero);
        await using var host = Host(c => c["Webhooks:AttemptTimeoutMs"] = "800");
        var (client, account) = await ConsoleAsync(host);
        var endpoint = (await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance")).Endpoint;
        await PublishAsync(host, LowBalance(account), TestIds.New("evt"));

        var deliveries = await Eventually.GetAsync(() => Support.Webhooks.DeliveriesAsync(client, account, endpoint.EndpointId),
            d => d.Count == 1 && d[0].State == WebhookDeliveryState.Delivered, Steps.Timeout, "delivered after the timeout");
        var attempts = deliveries[0].Attempts;
        Assert.Equal(2, attempts.Count);
        Assert.Equal((0, "timeout"), (attempts[0].StatusCode, attempts[0].Error));
        Assert.InRange(attempts[0].LatencyMs, 750, 5000);
        Assert.Equal(200, attempts[1].StatusCode);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
    }

    [Fact]
    public async Task Rotation_signs_with_both_secrets_during_the_grace_then_with_the_new_one_only()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = Host();
        var (client, account) = await ConsoleAsync(host);
        var created = await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance");
        var id = created.Endpoint.EndpointId;

        var rotated = await client.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { AccountId = account, EndpointId = id, GraceSeconds = 60 });
        Assert.NotEqual(created.Secret, rotated.Secret);
        Assert.NotNull(rotated.Endpoint.PreviousSecretExpiresAt);
        await PublishAsync(host, LowBalance(account), TestIds.New("evt"));
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 1, Steps.Timeout, "one delivery in the grace");
        var during = receiver.Accepted[0];
        var signatures = during.EachSignature.ToList();
        Assert.Equal(2, signatures.Count);
        // The new secret's signature first (the package checks only the first), the previous one's second.
        new StandardWebhook(rotated.Secret).Verify(during.Body, signatures[0]);
        new StandardWebhook(created.Secret).Verify(during.Body, signatures[1]);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(created.Secret).Verify(during.Body, signatures[0]));

        var again = await client.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { AccountId = account, EndpointId = id, GraceSeconds = 1 });
        var graceEnds = again.Endpoint.PreviousSecretExpiresAt.ToDateTimeOffset();
        await Eventually.AssertAsync(() => DateTimeOffset.UtcNow > graceEnds, Steps.Timeout, "the 1-s grace is over");
        await PublishAsync(host, LowBalance(account), TestIds.New("evt"));
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 2, Steps.Timeout, "one delivery after the grace");
        var after = receiver.Accepted.Single(r => r.Id != during.Id);
        Assert.Single(after.Signature.Split(' '));
        new StandardWebhook(again.Secret).Verify(after.Body, after.Headers);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(rotated.Secret).Verify(after.Body, after.Headers));
    }

    [Fact]
    public async Task An_endpoint_failing_three_times_in_a_row_is_disabled_with_an_inbox_notice_and_enabling_it_resumes_the_parked_delivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Behave = (_, _) => (500, TimeSpan.Zero);
        await using var host = Host(c => c["Webhooks:DisableAfterConsecutiveFailures"] = "3");
        var (client, account) = await ConsoleAsync(host);
        var id = (await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance")).Endpoint.EndpointId;
        await PublishAsync(host, LowBalance(account), TestIds.New("evt"));

        var endpoint = await Eventually.GetAsync(async () => (await client.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = account })).Endpoints.Single(),
            e => !e.Enabled, Steps.Timeout, "endpoint disabled");
        Assert.Equal(("failing", 3), (endpoint.DisabledReason, endpoint.ConsecutiveFailures));
        var inbox = await Steps.AllInboxAsync(host.Channel, account);
        var notice = Assert.Single(inbox, m => m.Kind == "webhook.endpoint_disabled");
        Assert.Contains(id, notice.Body);
        await RedisSnapshot.SettledAsync(redis.Connection, WebhookStore.DueKey); // parked: no retry is due any more
        Assert.Equal(3, receiver.Received.Count);
        Assert.Equal(WebhookDeliveryState.Pending, (await Support.Webhooks.DeliveriesAsync(client, account, id)).Single().State);

        receiver.Behave = (_, _) => (200, TimeSpan.Zero);
        var enabled = await client.SetWebhookEndpointEnabledAsync(new SetWebhookEndpointEnabledRequest { AccountId = account, EndpointId = id, Enabled = true });
        Assert.Equal((true, 0, ""), (enabled.Enabled, enabled.ConsecutiveFailures, enabled.DisabledReason));
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 1, Steps.Timeout, "the parked delivery sent after enabling");
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
    }

    /// <summary>
    /// The delivery is recorded first, its due pointer second (a pointer written first could be claimed and dropped
    /// before its delivery existed). A crash between the two leaves the event unacknowledged: its redelivery records
    /// nothing twice and makes the delivery due then, keeping a pointer that is already there.
    /// </summary>
    [Fact]
    public async Task A_delivery_recorded_but_not_yet_due_is_made_due_by_its_events_redelivery()
    {
        await using var host = Host(c => c["Webhooks:WorkerEnabled"] = "false");
        var store = host.Services.GetRequiredService<WebhookStore>();
        var account = TestIds.New("acct");
        var d = new FaceId.Onboarding.Application.Webhooks.WebhookDeliveryRecord(TestIds.New("msg"), account, "ep_1", TestIds.New("evt"), "package.low_balance", "{}",
            FaceId.Onboarding.Application.Webhooks.WebhookDeliveryState.Pending, DateTimeOffset.UtcNow, null, 0, 0, "", "", []);
        var member = WebhookStore.DueMember(account, d.Id);
        Assert.True(await store.EnqueueAsync(d));
        Assert.Equal(d.CreatedAt.ToUnixTimeMilliseconds(), await redis.Database.SortedSetScoreAsync(WebhookStore.DueKey, member));

        await redis.Database.SortedSetRemoveAsync(WebhookStore.DueKey, member); // the process died before the pointer
        Assert.False(await store.EnqueueAsync(d)); // the event again: the delivery exists
        Assert.Equal(d.CreatedAt.ToUnixTimeMilliseconds(), await redis.Database.SortedSetScoreAsync(WebhookStore.DueKey, member));

        await redis.Database.SortedSetAddAsync(WebhookStore.DueKey, member, 42); // claimed, or scheduled for a retry
        Assert.False(await store.EnqueueAsync(d));
        Assert.Equal(42, await redis.Database.SortedSetScoreAsync(WebhookStore.DueKey, member));
    }

    [Fact]
    public async Task A_delivery_can_be_sent_again_by_hand_with_the_same_webhook_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = Host();
        var (client, account) = await ConsoleAsync(host);
        var id = (await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance")).Endpoint.EndpointId;
        await PublishAsync(host, LowBalance(account), TestIds.New("evt"));
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 1, Steps.Timeout, "delivered");
        var delivery = (await Support.Webhooks.DeliveriesAsync(client, account, id)).Single();

        await client.RedeliverWebhookAsync(new RedeliverWebhookRequest { AccountId = account, EndpointId = id, DeliveryId = delivery.DeliveryId });
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 2, Steps.Timeout, "sent again");
        Assert.Equal([delivery.DeliveryId, delivery.DeliveryId], receiver.Accepted.Select(r => r.Id));
        var after = await Eventually.GetAsync(async () => (await Support.Webhooks.DeliveriesAsync(client, account, id)).Single(), d => d.Attempts.Count == 2, Steps.Timeout, "two attempts logged");
        Assert.Equal(WebhookDeliveryState.Delivered, after.State);
    }

    /// <summary>
    /// A redelivery asked for while an attempt is in flight (the receiver holds the request; the worker has not
    /// recorded it yet) is not swallowed by that attempt's record: the delivery is sent again after it. The receiver
    /// counts a request before it answers, so a test that redelivers as soon as it sees the first request hits this.
    /// </summary>
    [Fact]
    public async Task A_redelivery_asked_for_while_an_attempt_is_in_flight_is_sent_after_it()
    {
        using var arrived = new ManualResetEventSlim();
        using var answer = new ManualResetEventSlim();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Behave = (_, n) =>
        {
            if (n == 1)
            {
                arrived.Set();
                answer.Wait(Steps.Timeout);
            }
            return (200, TimeSpan.Zero);
        };
        await using var host = Host(c =>
        {
            c["Webhooks:AttemptTimeoutMs"] = "50000"; // the held request is answered, never timed out
            c["Webhooks:ClaimLeaseMs"] = "60000";
        });
        var (client, account) = await ConsoleAsync(host);
        var id = (await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance")).Endpoint.EndpointId;
        await PublishAsync(host, LowBalance(account), TestIds.New("evt"));
        Assert.True(await Task.Run(() => arrived.Wait(Steps.Timeout)), "the first attempt reached the receiver");
        var inFlight = (await Support.Webhooks.DeliveriesAsync(client, account, id)).Single();
        Assert.Equal((WebhookDeliveryState.Pending, 0), (inFlight.State, inFlight.Attempts.Count));

        await client.RedeliverWebhookAsync(new RedeliverWebhookRequest { AccountId = account, EndpointId = id, DeliveryId = inFlight.DeliveryId });
        answer.Set();
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 2, Steps.Timeout, "sent again after the attempt in flight");
        Assert.Equal([inFlight.DeliveryId, inFlight.DeliveryId], receiver.Accepted.Select(r => r.Id));
        var after = await Eventually.GetAsync(async () => (await Support.Webhooks.DeliveriesAsync(client, account, id)).Single(),
            d => d.State == WebhookDeliveryState.Delivered, Steps.Timeout, "delivered again");
        Assert.Equal(2, after.Attempts.Count);
    }

    /// <summary>Every forbidden address is refused at registration: INVALID_ARGUMENT on url naming the reason, nothing stored.</summary>
    [Fact]
    public async Task Forbidden_urls_are_refused_at_registration_with_the_reason_on_the_url_field()
    {
        await using var host = Host(allowLoopback: false);
        var (client, account) = await ConsoleAsync(host);
        (string Url, string Reason)[] table =
        [
            ("ftp://hooks.example.com/x", "only http and https"),
            ("file:///etc/passwd", "only http and https"),
            ("gopher://127.0.0.1:70/", "only http and https"),
            ("hooks.example.com/x", "not an absolute URL"),
            ("http://user:pw@hooks.example.com/", "credentials"),
            ("http://127.0.0.1:8080/hook", "loopback"),
            ("http://127.1.2.3/", "loopback"),
            ("http://localhost:8080/hook", "loopback"),
            ("http://[::1]/", "loopback"),
            ("http://[::ffff:127.0.0.1]/", "loopback"),
            ("http://0.0.0.0/", "unspecified"),
            ("http://[::]/", "unspecified"),
            ("http://10.0.0.1/", "private"),
            ("http://172.16.5.4/", "private"),
            ("http://172.31.255.255/", "private"),
            ("http://192.168.1.1/", "private"),
            ("http://100.64.0.1/", "private"),
            ("http://[fc00::1]/", "private"),
            ("http://[fd12:3456::1]/", "private"),
            ("http://[::ffff:10.0.0.1]/", "private"),
            ("http://[64:ff9b::a00:1]/", "private"),
            ("http://169.254.169.254/latest/meta-data/", "metadata"),
            ("http://[::ffff:169.254.169.254]/", "metadata"),
            ("http://169.254.10.10/", "link_local"),
            ("http://[fe80::1]/", "link_local"),
            ("http://224.0.0.1/", "multicast"),
            ("http://[ff02::1]/", "multicast"),
            ("http://255.255.255.255/", "reserved"),
            ("http://2130706433/", "loopback"), // 127.0.0.1 as one decimal number
            ("http://0x7f.0.0.1/", "loopback"),
        ];
        var failures = new List<string>();
        foreach (var (url, reason) in table)
        {
            try
            {
                await client.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
                {
                    IdempotencyKey = TestIds.New("k"), AccountId = account, Url = url, EventTypes = { "package.low_balance" },
                });
                failures.Add($"{url}: accepted");
            }
            catch (RpcException e)
            {
                var violation = e.GetRpcStatus()?.GetDetail<Google.Rpc.BadRequest>()?.FieldViolations.SingleOrDefault();
                if (e.StatusCode != StatusCode.InvalidArgument || violation?.Field != "url" || !violation.Description.Contains(reason))
                    failures.Add($"{url}: {e.StatusCode} {violation?.Field} {violation?.Description}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Empty((await client.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = account })).Endpoints);
    }

    /// <summary>
    /// The address is checked again when connecting: an endpoint registered where loopback is
    /// allowed, delivered by a process where it is not (as a name that later resolves to a
    /// forbidden address would be), is never reached.
    /// </summary>
    [Fact]
    public async Task A_name_resolving_to_a_forbidden_address_at_delivery_time_is_not_connected()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var registrar = Host(c => c["Webhooks:WorkerEnabled"] = "false");
        var (client, account) = await ConsoleAsync(registrar);
        var id = (await Support.Webhooks.CreateAsync(client, account, receiver.LocalhostUrl, "package.low_balance")).Endpoint.EndpointId;
        await using var deliverer = Host(allowLoopback: false);
        await PublishAsync(deliverer, LowBalance(account), TestIds.New("evt"));

        var delivery = await Eventually.GetAsync(async () => (await Support.Webhooks.DeliveriesAsync(client, account, id)).SingleOrDefault(),
            d => d is { Attempts.Count: >= 2 }, Steps.Timeout, "attempts refused");
        Assert.All(delivery!.Attempts, a => Assert.Equal((0, "forbidden_address: loopback"), (a.StatusCode, a.Error)));
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task Bad_input_is_INVALID_ARGUMENT_on_the_field_another_accounts_endpoint_is_NOT_FOUND_and_create_is_idempotent()
    {
        await using var host = Host();
        var (client, account) = await ConsoleAsync(host);
        var (otherClient, other) = await ConsoleAsync(host);

        Assert.Equal(["event_types[1]"], await RpcAssert.InvalidArgumentAsync(() => client.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
        {
            IdempotencyKey = "k-1", AccountId = account, Url = "https://hooks.example.com/x", EventTypes = { "package.low_balance", "package.bought" },
        }).ResponseAsync));
        Assert.Equal(["event_types"], await RpcAssert.InvalidArgumentAsync(() => client.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
        {
            IdempotencyKey = "k-1", AccountId = account, Url = "https://hooks.example.com/x",
        }).ResponseAsync));
        Assert.Equal(["url"], await RpcAssert.InvalidArgumentAsync(() => client.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
        {
            IdempotencyKey = "k-1", AccountId = account, EventTypes = { "package.low_balance" },
        }).ResponseAsync));
        Assert.Empty((await client.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = account })).Endpoints);

        var request = new CreateWebhookEndpointRequest { IdempotencyKey = "k-2", AccountId = account, Url = "http://127.0.0.1:9/x", EventTypes = { "refund.completed" } };
        var first = await client.CreateWebhookEndpointAsync(request);
        var replay = await client.CreateWebhookEndpointAsync(request);
        Assert.Equal((first.Endpoint.EndpointId, first.Secret), (replay.Endpoint.EndpointId, replay.Secret));
        var id = first.Endpoint.EndpointId;

        Assert.Equal(["grace_seconds"], await RpcAssert.InvalidArgumentAsync(() => client.RotateWebhookSecretAsync(new RotateWebhookSecretRequest
        {
            AccountId = account, EndpointId = id, GraceSeconds = 700_000,
        }).ResponseAsync));
        Assert.Equal(["url"], await RpcAssert.InvalidArgumentAsync(() => client.UpdateWebhookEndpointAsync(new UpdateWebhookEndpointRequest
        {
            AccountId = account, EndpointId = id, Url = "http://169.254.169.254/",
        }).ResponseAsync));
        Assert.Equal(["endpoint_id"], await RpcAssert.InvalidArgumentAsync(() => client.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest
        {
            AccountId = account, EndpointId = "we*bad",
        }).ResponseAsync));

        // The other account's console names its own account and this endpoint: NOT_FOUND, nothing changes.
        await RpcAssert.NotFoundAsync(() => otherClient.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { AccountId = other, EndpointId = id }).ResponseAsync);
        await RpcAssert.NotFoundAsync(() => otherClient.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { AccountId = other, EndpointId = id }).ResponseAsync);
        await RpcAssert.NotFoundAsync(() => client.RedeliverWebhookAsync(new RedeliverWebhookRequest { AccountId = account, EndpointId = id, DeliveryId = "msg_none" }).ResponseAsync);
        // Its console naming this account is refused by the caller check.
        var denied = await Assert.ThrowsAsync<RpcException>(() => otherClient.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = account }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var listed = (await client.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = account })).Endpoints.Single();
        Assert.Equal((id, true, "http://127.0.0.1:9/x"), (listed.EndpointId, listed.Enabled, listed.Url));
        Assert.Null(listed.PreviousSecretExpiresAt);

        var updated = await client.UpdateWebhookEndpointAsync(new UpdateWebhookEndpointRequest { AccountId = account, EndpointId = id, EventTypes = { "service.suspended", "service.resumed" } });
        Assert.Equal(["service.suspended", "service.resumed"], updated.EventTypes);
        var disabled = await client.SetWebhookEndpointEnabledAsync(new SetWebhookEndpointEnabledRequest { AccountId = account, EndpointId = id, Enabled = false });
        Assert.Equal((false, "by_customer"), (disabled.Enabled, disabled.DisabledReason));
        await client.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { AccountId = account, EndpointId = id });
        Assert.Empty((await client.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = account })).Endpoints);
        await RpcAssert.NotFoundAsync(() => client.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { AccountId = account, EndpointId = id }).ResponseAsync);
    }

    /// <summary>The delivery span joins the trace of the event that caused it; the metrics count the attempts and their latency.</summary>
    [Fact]
    public async Task The_delivery_span_joins_the_events_trace_and_the_metrics_count_delivered_retried_and_latency()
    {
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == "FaceId.Webhooks",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (a.TraceId == traceId) spans.Enqueue(a); },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var measured = new System.Collections.Concurrent.ConcurrentDictionary<string, double>();
        using var meters = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (i, l) => { if (i.Meter.Name == "FaceId.Webhooks") l.EnableMeasurementEvents(i); },
        };
        meters.SetMeasurementEventCallback<long>((i, v, _, _) => measured.AddOrUpdate(i.Name, v, (_, old) => old + v));
        meters.SetMeasurementEventCallback<double>((i, _, _, _) => measured.AddOrUpdate(i.Name, 1, (_, old) => old + 1));
        meters.Start();

        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Behave = (_, n) => (n == 1 ? 502 : 204, TimeSpan.Zero);
        await using var host = Host();
        var (client, account) = await ConsoleAsync(host);
        await Support.Webhooks.CreateAsync(client, account, receiver.Url, "package.low_balance");
        var parentSpan = System.Diagnostics.ActivitySpanId.CreateRandom();
        var e = Streams.Event(LowBalance(account), TestIds.New("evt"));
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(new FaceId.EventBus.CloudEvent
        {
            Id = e.Id, Source = e.Source, Type = e.Type, Topic = e.Topic, Time = e.Time, DataJson = e.DataJson, PubSubName = e.PubSubName,
            TraceParent = $"00-{traceId}-{parentSpan}-01",
        });

        await Eventually.AssertAsync(() => spans.Count >= 2, Steps.Timeout, "two delivery spans in the event's trace");
        Assert.All(spans, s =>
        {
            Assert.Equal(traceId, s.TraceId);
            Assert.Equal(System.Diagnostics.ActivityKind.Client, s.Kind);
            Assert.Equal(receiver.Accepted.Single().Id, s.GetTagItem("faceid.webhook.id"));
        });
        Assert.Equal([502, 204], spans.OrderBy(s => s.StartTimeUtc).Select(s => (int)s.GetTagItem("http.response.status_code")!));
        meters.RecordObservableInstruments();
        Assert.True(measured.GetValueOrDefault("faceid.webhooks.delivered") >= 1, "delivered counted");
        Assert.True(measured.GetValueOrDefault("faceid.webhooks.failed") >= 1, "failed attempt counted");
        Assert.True(measured.GetValueOrDefault("faceid.webhooks.retried") >= 1, "retry counted");
        Assert.True(measured.GetValueOrDefault("faceid.webhooks.delivery.duration") >= 2, "latency recorded per attempt");
    }

    /// <summary>The openssl verification script of docs/webhooks.md, run as written against a real delivery signed with two secrets.</summary>
    [Fact]
    public async Task The_documented_openssl_verification_script_accepts_a_real_delivery_with_either_secret_and_refuses_another()
    {
        var doc = await File.ReadAllTextAsync(Path.Combine(ServiceProcess.RepoRoot(), "docs", "webhooks.md"));
        var start = doc.IndexOf("```bash", doc.IndexOf("<!-- verify-webhook.sh", StringComparison.Ordinal), StringComparison.Ordinal) + "```bash".Length;
        var script = Path.Combine(Path.GetTempPath(), TestIds.New("verify") + ".sh");
        await File.WriteAllTextAsync(script, doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)].TrimStart('\n'));

        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = Host();
        var (client, account) = await ConsoleAsync(host);
        var created = await Support.Webhooks.CreateAsync(client, account, receiver.Url, "refund.completed");
        var rotated = await client.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { AccountId = account, EndpointId = created.Endpoint.EndpointId, GraceSeconds = 60 });
        await PublishAsync(host, new RefundCompleted { RefundId = "ref_9", AccountId = account, PackageId = "pkg_9", AmountFen = 100, CompletedAt = Now }, TestIds.New("evt"));
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 1, Steps.Timeout, "one delivery");
        var r = receiver.Accepted[0];
        var body = Path.Combine(Path.GetTempPath(), TestIds.New("body") + ".json");
        await File.WriteAllTextAsync(body, r.Body);

        async Task<int> Verify(string secret)
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [script, secret, r.Id, r.Timestamp, r.Signature, body])
            {
                RedirectStandardError = true,
            })!;
            await p.WaitForExitAsync();
            return p.ExitCode;
        }
        Assert.Equal(0, await Verify(rotated.Secret));
        Assert.Equal(0, await Verify(created.Secret));
        Assert.Equal(1, await Verify("whsec_" + Convert.ToBase64String(new byte[32])));
    }
}
