using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using FaceId.EventBus;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace FaceId.TestKit;

/// <summary>
/// Just enough of a Dapr sidecar (pub/sub only) to run the Dapr transport's code paths in tests:
/// PublishEvent on its gRPC port (HTTP/2 cleartext, one uncompressed frame, else INVALID_ARGUMENT)
/// records the request and its CloudEvent and delivers it to every
/// app that subscribed to the topic (read from the app's GET /dapr/subscribe), as the sidecar does:
/// POST &lt;route&gt; with the structured CloudEvent (application/cloudevents+json) and a
/// <c>traceparent</c> header of a sidecar span in the event's trace. RETRY is retried, as the
/// resiliency policy does.
/// </summary>
public sealed class DaprSidecarDouble : IAsyncDisposable
{
    public const string PublishEventPath = "/dapr.proto.runtime.v1.Dapr/PublishEvent";

    private readonly WebApplication _app;
    private readonly ConcurrentBag<(string Topic, string Route, HttpClient App)> _routes = [];
    private readonly ConcurrentBag<Task> _deliveries = [];

    private DaprSidecarDouble(WebApplication app) => _app = app;

    /// <summary>Every PublishEvent request, as the transport sent it.</summary>
    public ConcurrentQueue<PublishEventRequest> Requests { get; } = new();

    /// <summary>Every event published through the sidecar.</summary>
    public ConcurrentQueue<CloudEvent> Published { get; } = new();

    /// <summary>Every delivery: topic, event id, the traceparent header sent, the app's answer.</summary>
    public ConcurrentQueue<(string Topic, string EventId, string TraceParentHeader, string Status)> Delivered { get; } = new();

    /// <summary>The sidecar's gRPC endpoint for DaprClientBuilder.UseGrpcEndpoint.</summary>
    public string GrpcEndpoint => _app.Urls.Single();

    public static async Task<DaprSidecarDouble> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var sidecar = new DaprSidecarDouble(app);
        app.MapPost(PublishEventPath, sidecar.PublishEventAsync);
        await app.StartAsync();
        return sidecar;
    }

    /// <summary>Reads the app's subscriptions (GET /dapr/subscribe) and routes its topics to it.</summary>
    public async Task SubscribeAsync(HttpClient app)
    {
        using var doc = JsonDocument.Parse(await app.GetStringAsync("/dapr/subscribe"));
        foreach (var s in doc.RootElement.EnumerateArray())
        {
            string? Prop(JsonElement e, string name) =>
                e.EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
            var topic = Prop(s, "topic")!;
            var route = Prop(s, "route")
                ?? (s.EnumerateObject().FirstOrDefault(p => p.Name.Equals("routes", StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: JsonValueKind.Object } routes ? Prop(routes, "default") : null)
                ?? throw new InvalidOperationException($"no route in {s}");
            _routes.Add((topic, "/" + route.TrimStart('/'), app));
        }
    }

    /// <summary>POSTs a CloudEvent to an app's route as the sidecar does; returns the Dapr status it answered.</summary>
    public async Task<string> DeliverAsync(HttpClient app, string route, byte[] cloudEventJson, string traceParentHeader)
    {
        using var content = new ByteArrayContent(cloudEventJson);
        content.Headers.ContentType = new MediaTypeHeaderValue(CloudEvent.ContentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = content };
        request.Headers.TryAddWithoutValidation("traceparent", traceParentHeader);
        using var response = await app.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) return $"HTTP {(int)response.StatusCode}";
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("status").GetString() ?? "";
    }

    private async Task PublishEventAsync(HttpContext http)
    {
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body);
        var frame = body.ToArray();
        http.Response.ContentType = "application/grpc";
        if (frame.Length < 5 || frame[0] != 0 || BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1, 4)) != frame.Length - 5)
        {
            http.Response.AppendTrailer("grpc-status", ((int)Grpc.Core.StatusCode.InvalidArgument).ToString());
            http.Response.AppendTrailer("grpc-message", "expected one uncompressed gRPC frame");
            return;
        }
        var request = PublishEventRequest.Parser.ParseFrom(frame.AsSpan(5));
        Requests.Enqueue(request);
        var data = request.Data.ToByteArray();
        var cloudEvent = CloudEvent.Parse(data);
        Published.Enqueue(cloudEvent);
        foreach (var (topic, route, app) in _routes.Where(r => r.Topic == request.Topic))
            _deliveries.Add(Task.Run(() => DeliverWithRetriesAsync(topic, route, app, cloudEvent, data)));
        await http.Response.Body.WriteAsync(new byte[5]); // google.protobuf.Empty
        http.Response.AppendTrailer("grpc-status", "0");
    }

    private async Task DeliverWithRetriesAsync(string topic, string route, HttpClient app, CloudEvent cloudEvent, byte[] data)
    {
        // The sidecar's own span continues the event's trace; its id is what the app sees as parent.
        var trace = cloudEvent.TraceParent is { } tp && ActivityContext.TryParse(tp, null, out var parent)
            ? parent.TraceId
            : ActivityTraceId.CreateRandom();
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var header = $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
            string status;
            try
            {
                status = await DeliverAsync(app, route, data, header);
            }
            catch (Exception e) when (e is HttpRequestException or ObjectDisposedException or InvalidOperationException)
            {
                return; // the app is gone (test over)
            }
            Delivered.Enqueue((topic, cloudEvent.Id, header, status));
            if (status != "RETRY") return;
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        try { await Task.WhenAll(_deliveries).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* deliveries to stopped apps */ }
    }
}
