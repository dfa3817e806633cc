using System.Diagnostics;
using Dapr.Client;
using FaceId.Contracts;
using FaceId.Contracts.Metering.V1;
using FaceId.EventBus;
using FaceId.EventBus.Transports;
using FaceId.Metering.Grpc;
using FaceId.Observability.Tests.Support;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FaceId.Observability.Tests;

/// <summary>
/// One trace follows a metered call: the caller's traceparent → Metering's gRPC server span →
/// ledger.charge (the deduct.lua call) → the outbox relay's publish spans → the consumers' process
/// spans in other services — over the Redis Streams transport, and over the Dapr transport's code
/// paths (DaprClient publish, the subscription endpoint receiving the CloudEvent).
/// Services run in process on real Redis; spans come from the OpenTelemetry in-memory exporter on
/// the services' own (ServiceDefaults) tracer provider.
/// </summary>
public sealed class TraceTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static string Hex(ActivitySpanId id) => id.ToHexString();

    [Fact]
    public async Task Redis_Streams_one_trace_runs_from_the_callers_request_through_the_ledger_and_relay_to_the_consumers()
    {
        var spans = new SpanCapture();
        var onboardingLogs = new LogCapture();
        var meteringLogs = new LogCapture();
        var config = Platform.Config(redis.ConnectionString);
        await using var onboarding = new InProcessService<OnboardingGrpcService>(config, onboardingLogs.Into).Start();
        await using var packages = new InProcessService<PackagesGrpcService>(config).Start();
        await using var metering = new InProcessService<MeteringGrpcService>(config, s => { spans.Into(s); meteringLogs.Into(s); }).Start();
        await using var billing = await ProbeConsumer.StartAsync(redis.ConnectionString, TestIds.AppId("billing-probe"));

        var accountId = await Platform.OpenServiceAsync(onboarding.Channel);
        await Platform.WaitForTrialAsync(packages.Channel, accountId);
        var (traceParent, traceId, callerSpanId) = Platform.NewCaller();
        var response = await Platform.MeterBatchAsync(metering.Server, accountId, traceParent);
        Assert.All(response.Outcomes, o => Assert.Equal(ChargeKind.Package, o.Kind));

        var usageConsumed = await spans.WaitForAsync(traceId, s => s.DisplayName == "process " + EventTopics.UsageCharged, "the usage event is consumed in the call's trace");
        var alertConsumed = await spans.WaitForAsync(traceId, s => s.DisplayName == "process " + EventTopics.PackageAlert, "the low-balance alert is consumed by Onboarding in the call's trace");
        var trace = spans.Trace(traceId);
        var tree = spans.Describe(traceId);

        // The caller's traceparent is honoured: Metering's server span continues the caller's trace.
        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("RecordUsageBatch"));
        Assert.True(Hex(server.ParentSpanId) == callerSpanId, tree);

        // The one deduct.lua call, with low-cardinality attributes only.
        var ledger = Assert.Single(trace, s => s.OperationName == "ledger.charge");
        Assert.Equal("FaceId.Ledger", ledger.Source.Name);
        Assert.True(ledger.ParentSpanId == server.SpanId, tree);
        Assert.Equal(Platform.BatchSize, ledger.GetTagItem("faceid.records"));
        Assert.Equal(Platform.Label, ledger.GetTagItem("faceid.label"));
        Assert.Equal("package", ledger.GetTagItem("faceid.outcome"));
        Assert.Equal(Platform.BatchSize, ledger.GetTagItem("faceid.outcome.package"));
        AssertNoPersonalData(trace, accountId);

        // The relay publishes both outbox entries of the call as children of ledger.charge ...
        var usagePublished = Assert.Single(trace, s => s.DisplayName == "publish " + EventTopics.UsageCharged);
        var alertPublished = Assert.Single(trace, s => s.DisplayName == "publish " + EventTopics.PackageAlert);
        Assert.All(new[] { usagePublished, alertPublished }, p =>
        {
            Assert.Equal(ActivityKind.Producer, p.Kind);
            Assert.True(p.ParentSpanId == ledger.SpanId, tree);
        });

        // ... and each consumer's process span is a child of the publish span it received.
        Assert.Equal(ActivityKind.Consumer, usageConsumed.Kind);
        Assert.True(usageConsumed.ParentSpanId == usagePublished.SpanId, tree);
        Assert.Equal(billing.AppId, usageConsumed.GetTagItem("messaging.consumer.group.name"));
        Assert.Contains(usageConsumed.SpanId, billing.Handled.Values);
        Assert.Equal(ActivityKind.Consumer, alertConsumed.Kind);
        Assert.True(alertConsumed.ParentSpanId == alertPublished.SpanId, tree);
        Assert.Equal("onboarding", alertConsumed.GetTagItem("messaging.consumer.group.name"));
        Assert.NotEqual(ActivityStatusCode.Error, alertConsumed.Status);
        // One trace: no span of it has links (nothing was batched across traces).
        Assert.All(trace, s => Assert.Empty(s.Links));

        // Logs are structured and carry the trace: Onboarding's notice of the alert is logged in its consumer span.
        var notice = await Eventually.GetAsync(
            () => Task.FromResult(onboardingLogs.Entries.FirstOrDefault(e => e.TraceId.ToHexString() == traceId && e.Category.EndsWith("NotificationDelivery", StringComparison.Ordinal))),
            e => e is not null, Platform.Timeout, "Onboarding logs the alert's notice in the call's trace");
        Assert.Equal(alertConsumed.SpanId, notice!.SpanId);
        Assert.NotNull(notice.Template);
        Assert.Contains(notice.Attributes.Keys, k => k == "Kind");
        Assert.DoesNotContain(notice.Attributes.Values, v => v.Contains("13800138000") || v.Contains("@example.com"));
        // ... and the hot path is quiet at the default level: Metering logged nothing for the call.
        Assert.DoesNotContain(meteringLogs.Entries, e => e.TraceId.ToHexString() == traceId);
    }

    [Fact]
    public async Task Dapr_the_relay_publishes_through_the_sidecar_and_the_subscription_endpoint_continues_the_events_trace()
    {
        var spans = new SpanCapture();
        await using var sidecar = await DaprSidecarDouble.StartAsync();
        var config = Platform.Config(redis.ConnectionString, transport: "Dapr");
        Action<IServiceCollection> useSidecar = s => s.AddSingleton(new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).Build());
        await using var onboarding = new InProcessService<OnboardingGrpcService>(config, useSidecar).Start();
        await using var packages = new InProcessService<PackagesGrpcService>(config, useSidecar).Start();
        await using var metering = new InProcessService<MeteringGrpcService>(config, s => { useSidecar(s); spans.Into(s); }).Start();
        var onboardingHttp = onboarding.CreateHttpClient();
        await sidecar.SubscribeAsync(onboardingHttp);
        await sidecar.SubscribeAsync(packages.CreateHttpClient());

        var accountId = await Platform.OpenServiceAsync(onboarding.Channel);
        await Platform.WaitForTrialAsync(packages.Channel, accountId);
        var (traceParent, traceId, callerSpanId) = Platform.NewCaller();
        await Platform.MeterBatchAsync(metering.Server, accountId, traceParent);

        var consumed = await spans.WaitForAsync(traceId, s => s.DisplayName == "process " + EventTopics.PackageAlert, "Onboarding consumes the alert delivered by the sidecar");
        var delivery = await Eventually.GetAsync(
            () => Task.FromResult(sidecar.Delivered.FirstOrDefault(d => d.Topic == EventTopics.PackageAlert && d.TraceParentHeader.Contains(traceId))),
            d => d.Status is not null, Platform.Timeout, "the sidecar's delivery of the alert");
        Assert.Equal("SUCCESS", delivery.Status);
        var endpoint = await spans.WaitForAsync(traceId, s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("/events/" + EventTopics.PackageAlert), "the subscription endpoint's server span");
        var trace = spans.Trace(traceId);
        var tree = spans.Describe(traceId);

        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("RecordUsageBatch"));
        Assert.True(Hex(server.ParentSpanId) == callerSpanId, tree);
        var ledger = Assert.Single(trace, s => s.OperationName == "ledger.charge");
        Assert.True(ledger.ParentSpanId == server.SpanId, tree);
        var published = Assert.Single(trace, s => s.DisplayName == "publish " + EventTopics.PackageAlert);
        Assert.True(published.ParentSpanId == ledger.SpanId, tree);
        // The CloudEvent went through the sidecar carrying the publish span's context.
        var cloudEvent = Assert.Single(sidecar.Published, e => e.Topic == EventTopics.PackageAlert && e.TraceParent!.Contains(traceId));
        Assert.Equal($"00-{traceId}-{Hex(published.SpanId)}-01", cloudEvent.TraceParent);

        // The subscription endpoint's request continues the sidecar's span (traceparent header), and
        // the consumer span is a child of the CloudEvent's traceparent: the publish span.
        Assert.True(Hex(endpoint.ParentSpanId) == delivery.TraceParentHeader.Split('-')[2], tree);
        Assert.Equal(ActivityKind.Consumer, consumed.Kind);
        Assert.True(consumed.ParentSpanId == published.SpanId, tree);
        Assert.Equal("onboarding", consumed.GetTagItem("messaging.consumer.group.name"));
        Assert.NotEqual(ActivityStatusCode.Error, consumed.Status);
        Assert.Empty(consumed.Links);
        AssertNoPersonalData(trace, accountId);

        // A sidecar delivering in a trace of its own (no trace continuation): the consumer span still
        // belongs to the event's trace, and links to the delivery request's span.
        var (foreignParent, foreignTrace, _) = Platform.NewCaller();
        var status = await sidecar.DeliverAsync(onboardingHttp, DaprSubscriptionEndpoints.RoutePrefix + EventTopics.PackageAlert, cloudEvent.ToJsonBytes(), foreignParent);
        Assert.Equal("SUCCESS", status); // a duplicate by event id: acknowledged, not handled again
        var foreignRequest = await spans.WaitForAsync(foreignTrace, s => s.Kind == ActivityKind.Server, "the foreign delivery's server span");
        var redelivered = await spans.WaitForAsync(traceId, s => s.DisplayName == "process " + EventTopics.PackageAlert && s.SpanId != consumed.SpanId, "the re-delivery's consumer span");
        Assert.True(redelivered.ParentSpanId == published.SpanId, spans.Describe(traceId));
        var link = Assert.Single(redelivered.Links);
        Assert.Equal(foreignRequest.SpanId, link.Context.SpanId);
        Assert.Equal(true, redelivered.GetTagItem("faceid.event.duplicate"));
    }

    [Fact]
    public async Task Requests_coalesced_into_one_deduction_and_that_deduction_link_to_each_other()
    {
        var spans = new SpanCapture();
        var config = Platform.Config(redis.ConnectionString);
        await using var onboarding = new InProcessService<OnboardingGrpcService>(config).Start();
        await using var packages = new InProcessService<PackagesGrpcService>(config).Start();
        await using var metering = new InProcessService<MeteringGrpcService>(config, spans.Into).Start();
        var accountId = await Platform.OpenServiceAsync(onboarding.Channel);
        await Platform.WaitForTrialAsync(packages.Channel, accountId);

        // Redis busy for a moment (a script spinning 300 ms): concurrent calls of one account queue
        // behind the first one's deduct.lua and go together in the next call (group commit).
        var busy = redis.Database.ScriptEvaluateAsync(
            "local t = redis.call('TIME') repeat local n = redis.call('TIME') until (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 300000 return 1");
        await Task.Delay(20);
        var callers = Enumerable.Range(0, 12).Select(_ => Platform.NewCaller()).ToList();
        await Task.WhenAll(callers.Select(c => Platform.MeterBatchAsync(metering.Server, accountId, c.TraceParent, records: 1)));
        await busy;

        var servers = new Dictionary<string, Activity>();
        foreach (var c in callers)
            servers[c.TraceId] = await spans.WaitForAsync(c.TraceId, s => s.Kind == ActivityKind.Server, "the call's server span");
        var ledgers = callers.SelectMany(c => spans.Trace(c.TraceId)).Where(s => s.OperationName == "ledger.charge").ToList();
        var describe = string.Join(Environment.NewLine, callers.Select(c => spans.Describe(c.TraceId)));
        var coalesced = ledgers.Where(l => l.Links.Any()).ToList();
        Assert.True(coalesced.Count > 0, "no deduction served several requests:" + Environment.NewLine + describe);
        foreach (var charge in coalesced)
        {
            Assert.Equal(charge.Links.Count() + 1, charge.GetTagItem("faceid.requests"));
            foreach (var link in charge.Links)
            {
                // The link leads to another caller's server span, which links back to the deduction.
                var other = Assert.Single(servers.Values, s => s.SpanId == link.Context.SpanId && s.TraceId == link.Context.TraceId);
                Assert.NotEqual(charge.TraceId, other.TraceId);
                Assert.Contains(other.Links, l => l.Context.SpanId == charge.SpanId);
            }
        }
        // Every call is accounted for: its own trace has the deduction, or its server span links to the one that served it.
        foreach (var (traceId, server) in servers)
            Assert.True(ledgers.Any(l => l.TraceId == server.TraceId) || server.Links.Any(l => ledgers.Any(c => c.SpanId == l.Context.SpanId)),
                $"the call of trace {traceId} has no deduction:{Environment.NewLine}{describe}");
    }

    /// <summary>Spans carry no account ids (nor request ids, phone numbers, e-mail addresses: none are tag values).</summary>
    private static void AssertNoPersonalData(IEnumerable<Activity> trace, string accountId)
    {
        foreach (var span in trace)
            foreach (var (key, value) in span.TagObjects)
            {
                var text = value?.ToString() ?? "";
                Assert.False(text.Contains(accountId) || text.Contains("13800138000") || text.Contains("example.com") || text.Contains("req-"),
                    $"span {span.DisplayName} tag {key}={text} carries personal or high-cardinality data");
            }
    }
}
