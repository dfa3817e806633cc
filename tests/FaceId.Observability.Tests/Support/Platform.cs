using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.TestHost;

namespace FaceId.Observability.Tests.Support;

/// <summary>Service configuration for tests and the metered-call scenario's steps.</summary>
public static class Platform
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The label of the trial package the scenario drains.</summary>
    public const string Label = "basic_authoritative";

    /// <summary>Records in the scenario's batch: the 81st unit of a 100-call package raises its low-balance alert (remaining × 5 &lt; size).</summary>
    public const int BatchSize = 81;

    /// <summary>Real Redis, fast event-bus timings, private document and notification folders.</summary>
    public static Dictionary<string, string?> Config(string redis, string? transport = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = redis,
            ["EventBus:ProcessingTimeoutMs"] = "2000",
            ["EventBus:RedeliverIntervalMs"] = "200",
            ["EventBus:MaxPollDelayMs"] = "20",
            ["EventBus:OutboxSweepIntervalMs"] = "200",
            ["EventBus:LagSampleIntervalMs"] = "100",
            ["Documents:Directory"] = Path.Combine(Path.GetTempPath(), TestIds.New("docs")),
            ["Notifications:SinkDirectory"] = Path.Combine(Path.GetTempPath(), TestIds.New("notices")),
        };
        if (transport is not null) config["EventBus:Transport"] = transport;
        return config;
    }

    /// <summary>The same settings as environment variables, for services run as processes.</summary>
    public static Dictionary<string, string?> Environment(string redis) =>
        Config(redis).ToDictionary(kv => kv.Key.Replace(":", "__"), kv => kv.Value);

    /// <summary>A W3C traceparent as a caller (gateway) sends it: a new trace, sampled.</summary>
    public static (string TraceParent, string TraceId, string ParentSpanId) NewCaller()
    {
        var trace = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        var span = System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString();
        return ($"00-{trace}-{span}-01", trace, span);
    }

    /// <summary>Creates an account, submits and approves its application; returns the account id.</summary>
    public static Task<string> OpenServiceAsync(GrpcChannel onboarding) => Onboard.OpenServiceAsync(onboarding, "Trace Co.");

    /// <summary>Waits until Packages lists the trial (6 packages) for the account.</summary>
    public static async Task WaitForTrialAsync(GrpcChannel packages, string accountId)
    {
        var client = new PackagesService.PackagesServiceClient(packages);
        await Eventually.GetAsync(async () =>
        {
            try
            {
                return (await client.ListPackagesAsync(new ListPackagesRequest { AccountId = accountId })).Packages.Count;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return 0;
            }
        }, n => n >= 6, Timeout, $"the trial packages of {accountId}");
    }

    /// <summary>
    /// The metered call: one RecordUsageBatch of <see cref="BatchSize"/> records on the trial
    /// package of <see cref="Label"/>, sent with the caller's <paramref name="traceParent"/>.
    /// Sent as a plain gRPC request over HTTP/2 (what a gateway without .NET sends): in this test
    /// process the services' gRPC client instrumentation would otherwise replace the header with a
    /// client span of its own.
    /// </summary>
    public static async Task<RecordUsageBatchResponse> MeterBatchAsync(TestServer metering, string accountId, string traceParent, int records = BatchSize)
    {
        var batch = new RecordUsageBatchRequest();
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < records; i++)
            batch.Records.Add(new UsageRecord
            {
                RequestId = TestIds.New("req"),
                AccountId = accountId,
                Label = Label,
                AccessMode = AccessMode.Saas,
                ReturnCode = "0",
                OccurredAt = Timestamp.FromDateTimeOffset(now),
            });
        var payload = batch.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        using var http = new HttpClient(metering.CreateHandler()) { BaseAddress = metering.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/faceid.metering.v1.MeteringService/RecordUsageBatch")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("traceparent", traceParent);
        request.Headers.TryAddWithoutValidation("authorization", "Bearer " + TestAuth.OperatorToken);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First()
            : response.Headers.TryGetValues("grpc-status", out var h) ? h.First() : "missing";
        if (status != "0" || body.Length < 5)
            throw new InvalidOperationException($"RecordUsageBatch failed: HTTP {(int)response.StatusCode}, grpc-status {status}");
        return RecordUsageBatchResponse.Parser.ParseFrom(body.AsSpan(5));
    }
}
