using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using FaceId.Contracts;
using FaceId.Contracts.Metering.V1;
using FaceId.Metering.Grpc;
using FaceId.Observability.Tests.Support;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.Redis;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Observability.Tests;

/// <summary>
/// Every metric that docs/observability.md documents as emitted by these services is emitted, with
/// the documented instrument kind, unit and tags, when the platform does its work: a metered
/// batch (package charges, a low-balance alert), a replay (duplicates), a refusal, a poison event
/// (dead letter), a failing Lua script, and consumer-lag sampling. And the Prometheus scrape
/// endpoint exposes them under the names the PromQL examples, dashboard and alert rules use.
/// </summary>
public sealed class MetricTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private sealed record Measured(string Unit, string Kind, ConcurrentQueue<(double Value, Dictionary<string, string> Tags)> Values);

    [Fact]
    public async Task Every_documented_metric_is_emitted_with_its_unit_kind_and_tags()
    {
        var documented = DocumentedMetrics();
        Assert.True(documented.Count >= 14, $"docs/observability.md lists only {documented.Count} metrics");
        var seen = new ConcurrentDictionary<string, Measured>();
        using var listener = Listen(seen);

        await using var platform = await RunScenarioAsync(listener, seen, prometheus: false);
        var (accountId, billing) = (platform.AccountId, platform.Billing);

        var problems = new List<string>();
        foreach (var (name, kind, unit, tags) in documented)
        {
            if (!seen.TryGetValue(name, out var m)) { problems.Add($"{name}: not emitted"); continue; }
            if (m.Unit != unit) problems.Add($"{name}: unit '{m.Unit}', documented '{unit}'");
            if (m.Kind != kind) problems.Add($"{name}: a {m.Kind}, documented as a {kind}");
            foreach (var tag in tags.Where(t => !m.Values.Any(v => v.Tags.ContainsKey(t))))
                problems.Add($"{name}: tag '{tag}' never set");
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

        // The values say what happened.
        Assert.True(Has(seen, "faceid.metering.calls", t => t["label"] == Platform.Label && t["outcome"] == "package", v => v >= Platform.BatchSize), "package calls");
        Assert.True(Has(seen, "faceid.metering.calls", t => t["outcome"] == "duplicate"), "duplicates");
        Assert.True(Has(seen, "faceid.metering.calls", t => t["outcome"] == "refused" && t["label"] == "none"), "refusals");
        Assert.True(Has(seen, "faceid.metering.batch.size", _ => true, v => v == Platform.BatchSize), "the batch's size");
        Assert.True(Has(seen, "faceid.metering.deduction.duration", _ => true, v => v is > 0 and < 5), "deductions in seconds");
        Assert.True(Has(seen, "faceid.packages.alerts", t => t["kind"] == "low_balance"), "the low-balance alert");
        Assert.True(Has(seen, "faceid.redis.script.errors", t => t["script"] == "broken.lua" && t["error.type"] == nameof(RedisServerException)), "the script error");
        // No metric carries an id: every tag value comes from a short, fixed vocabulary.
        var tagValues = seen.Values.SelectMany(m => m.Values).SelectMany(v => v.Tags.Values).Distinct().ToList();
        Assert.DoesNotContain(tagValues, v => v.Contains(accountId) || v.StartsWith("req-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_Prometheus_scrape_endpoint_exposes_every_name_the_dashboard_and_alert_rules_query()
    {
        var seen = new ConcurrentDictionary<string, Measured>();
        using var listener = Listen(seen);
        await using var platform = await RunScenarioAsync(listener, seen, prometheus: true);

        // Every faceid_* series the dashboard and the alert rules use (Billing's aside, not running here).
        var deploy = Path.Combine(RepoRoot(), "deploy", "observability");
        var queried = Regex.Matches(File.ReadAllText(Path.Combine(deploy, "grafana-dashboard.json")) + File.ReadAllText(Path.Combine(deploy, "prometheus-alerts.yaml")),
                "\\b(faceid_[a-z_]+|http_server_request_duration_seconds_bucket)\\b")
            .Select(m => m.Value).Where(n => !n.StartsWith("faceid_billing_", StringComparison.Ordinal)).Distinct().Order().ToList();
        Assert.True(queried.Count >= 12, string.Join(", ", queried));
        using var http = platform.Metering.CreateHttpClient();
        var text = "";
        var missing = await Eventually.GetAsync(async () =>
            {
                text = await http.GetStringAsync("/metrics");
                return string.Join(", ", queried.Where(n => !Regex.IsMatch(text, $"^{n}(_bucket)?[{{ ]", RegexOptions.Multiline)));
            },
            m => m.Length == 0, Platform.Timeout, "the scrape has every series the dashboard and rules query; missing");
        Assert.Empty(missing);
        Assert.Matches(new Regex($"faceid_metering_calls_total\\{{[^}}]*label=\"{Platform.Label}\"[^}}]*outcome=\"package\""), text);
        Assert.Contains("target_info{", text);
        // And the PromQL names of docs/observability.md are those the scrape shows.
        var docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "observability.md"));
        foreach (var name in Regex.Matches(docs, "\\bfaceid_[a-z_]+\\b").Select(m => m.Value).Where(n => !n.StartsWith("faceid_billing_", StringComparison.Ordinal)).Distinct())
            Assert.True(Regex.IsMatch(text, $"^{name}(_bucket)?[{{ ]", RegexOptions.Multiline), $"docs/observability.md names {name}, which the scrape does not show");
    }

    private sealed record Scenario(
        InProcessService<OnboardingGrpcService> Onboarding, InProcessService<PackagesGrpcService> Packages,
        InProcessService<MeteringGrpcService> Metering, ProbeConsumer Billing, string AccountId) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Billing.DisposeAsync();
            await Metering.DisposeAsync();
            await Packages.DisposeAsync();
            await Onboarding.DisposeAsync();
        }
    }

    /// <summary>
    /// The platform doing its work: a metered batch (package charges, a low-balance alert), a replay
    /// (duplicate), a refusal, a poison event (dead letter), a failing handler, a failing Lua script,
    /// and consumer-lag samples; returns once all of it has been measured.
    /// </summary>
    private async Task<Scenario> RunScenarioAsync(MeterListener listener, ConcurrentDictionary<string, Measured> seen, bool prometheus)
    {
        var config = Platform.Config(redis.ConnectionString);
        var meteringConfig = Platform.Config(redis.ConnectionString);
        if (prometheus) meteringConfig["Telemetry:Prometheus"] = "true";
        var onboarding = new InProcessService<OnboardingGrpcService>(config).Start();
        var packages = new InProcessService<PackagesGrpcService>(config).Start();
        var metering = new InProcessService<MeteringGrpcService>(meteringConfig).Start();
        var billing = await ProbeConsumer.StartAsync(redis.ConnectionString, TestIds.AppId("billing-probe"));
        var platform = new Scenario(onboarding, packages, metering, billing, "");
        try
        {
            return platform with { AccountId = await WorkAsync(platform, listener, seen) };
        }
        catch
        {
            await platform.DisposeAsync();
            throw;
        }
    }

    private async Task<string> WorkAsync(Scenario platform, MeterListener listener, ConcurrentDictionary<string, Measured> seen)
    {
        var (onboarding, packages, metering, billing) = (platform.Onboarding, platform.Packages, platform.Metering, platform.Billing);
        var accountId = await Platform.OpenServiceAsync(onboarding.Channel);
        await Platform.WaitForTrialAsync(packages.Channel, accountId);
        var (traceParent, _, _) = Platform.NewCaller();
        var batch = await Platform.MeterBatchAsync(metering.Server, accountId, traceParent);
        var client = new MeteringService.MeteringServiceClient(metering.Channel);
        // A replay (duplicate) and an unknown account (refused).
        // (A replay repeats its call: the same record, occurred_at included.)
        var call = new RecordUsageRequest { Record = Usage(accountId, TestIds.New("req")) };
        Assert.False((await client.RecordUsageAsync(call)).Outcome.Duplicate);
        var replay = await client.RecordUsageAsync(call);
        Assert.True(replay.Outcome.Duplicate);
        var refused = await client.RecordUsageAsync(new RecordUsageRequest { Record = Usage(TestIds.New("nobody"), TestIds.New("req")) });
        Assert.Equal(ChargeKind.Refused, refused.Outcome.Kind);
        // A poison event on a consumed topic is dead-lettered; a failing script is counted.
        await redis.Database.StreamAddAsync(EventTopics.UsageCharged, "data", "not a CloudEvent");
        // A handler failure (the event stays pending and is redelivered).
        var failing = new FaceId.EventBus.CloudEvent
        {
            Id = TestIds.New("evt"), Source = "test", Type = FaceId.Contracts.Events.V1.UsageCharged.Descriptor.FullName, Topic = EventTopics.UsageCharged,
            Time = DateTimeOffset.UtcNow, DataJson = $"{{\"records\":[{{\"requestId\":\"{UsageProbeHandler.FailingRequestId}\"}}]}}",
        };
        await redis.Database.StreamAddAsync(EventTopics.UsageCharged, "data", failing.ToJsonBytes());
        var broken = new RedisScript("broken.lua", "return redis.call('NO_SUCH_COMMAND')");
        await Assert.ThrowsAsync<RedisServerException>(() => broken.RunAsync(redis.Database, [], []));

        await Eventually.AssertAsync(() =>
        {
            listener.RecordObservableInstruments();
            return Task.FromResult(
                Has(seen, "faceid.events.dead_lettered", t => t["topic"] == EventTopics.UsageCharged)
                && Has(seen, "faceid.events.failed", t => t["topic"] == EventTopics.UsageCharged)
                && Has(seen, "faceid.events.consumed", t => t["topic"] == EventTopics.UsageCharged)
                && Has(seen, "faceid.events.consumed", t => t["topic"] == EventTopics.PackageAlert)
                && Has(seen, "faceid.events.consumer.pending", t => t["group"] == billing.AppId)
                && Has(seen, "faceid.events.consumer.lag", t => t["group"] == billing.AppId)
                && Has(seen, "faceid.events.dead_letter.entries", t => t["topic"] == EventTopics.UsageCharged, v => v >= 1));
        }, Platform.Timeout, "the events are consumed, dead-lettered and sampled");

        return accountId;
    }

    private static UsageRecord Usage(string accountId, string requestId) => new()
    {
        RequestId = requestId,
        AccountId = accountId,
        Label = Platform.Label,
        AccessMode = FaceId.Contracts.Common.V1.AccessMode.Saas,
        ReturnCode = "0",
        OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    private static bool Has(ConcurrentDictionary<string, Measured> seen, string name, Func<Dictionary<string, string>, bool> tags, Func<double, bool>? value = null) =>
        seen.TryGetValue(name, out var m) && m.Values.Any(v => Try(() => tags(v.Tags)) && (value is null || value(v.Value)));

    private static bool Try(Func<bool> f)
    {
        try { return f(); } catch (KeyNotFoundException) { return false; }
    }

    private static MeterListener Listen(ConcurrentDictionary<string, Measured> seen)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name.StartsWith("faceid.", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
            },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var kind = instrument.GetType().Name switch
            {
                var n when n.StartsWith("Counter", StringComparison.Ordinal) => "counter",
                var n when n.StartsWith("Histogram", StringComparison.Ordinal) => "histogram",
                var n when n.StartsWith("ObservableGauge", StringComparison.Ordinal) => "gauge",
                var n => n,
            };
            var m = seen.GetOrAdd(instrument.Name, _ => new Measured(instrument.Unit ?? "", kind, new()));
            var dict = new Dictionary<string, string>();
            foreach (var (k, v) in tags) dict[k] = v?.ToString() ?? "";
            m.Values.Enqueue((value, dict));
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        return listener;
    }

    /// <summary>
    /// Rows of docs/observability.md's metric tables: | `name` | kind | `unit` | `tag`, `tag` | meaning |.
    /// Rows whose meaning says "(Billing…)" are Billing's, which is not under test here; "(webhooks)" rows are
    /// Onboarding's webhook delivery, proven by tests/FaceId.Onboarding.Tests.
    /// </summary>
    private static List<(string Name, string Kind, string Unit, string[] Tags)> DocumentedMetrics()
    {
        var rows = new List<(string, string, string, string[])>();
        foreach (var line in File.ReadLines(Path.Combine(RepoRoot(), "docs", "observability.md")))
        {
            var cells = line.Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length < 6 || !cells[1].StartsWith("`faceid.", StringComparison.Ordinal)) continue;
            if (line.Contains("(Billing", StringComparison.Ordinal) || line.Contains("(webhooks)", StringComparison.Ordinal)) continue;
            var tags = Regex.Matches(cells[4], "`([^`]+)`").Select(m => m.Groups[1].Value).ToArray();
            rows.Add((cells[1].Trim('`'), cells[2], cells[3].Trim('`'), tags));
        }
        return rows;
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FaceIdPlatform.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("FaceIdPlatform.sln not found above " + AppContext.BaseDirectory);
    }
}
