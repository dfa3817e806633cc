using Dapr;
using Dapr.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FaceId.EventBus.Transports;

/// <summary>
/// The receiving side of the Dapr transport: one POST endpoint per subscribed topic, declared to
/// the sidecar through /dapr/subscribe, behind the CloudEvents middleware (which unwraps
/// <c>data</c> and forwards the CloudEvent attributes as <c>Cloudevent.*</c> headers).
/// Answers use Dapr's status protocol: SUCCESS, RETRY (redeliver) or DROP (dead-letter topic).
/// </summary>
public static class DaprSubscriptionEndpoints
{
    public const string RoutePrefix = "/events/";

    public static void UseDaprCloudEvents(this IApplicationBuilder app)
    {
        app.Use(KeepTraceParentAsync);
        app.UseCloudEvents(new CloudEventsMiddlewareOptions { ForwardCloudEventPropertiesAsHeaders = true });
    }

    /// <summary>
    /// Dapr.AspNetCore never forwards the CloudEvent's own <c>traceparent</c> as a header (only the
    /// sidecar's span arrives, as the HTTP <c>traceparent</c>, unsampled when the sidecar's tracing is
    /// off). Keep the event's, so the consumer span continues the publisher's trace either way.
    /// </summary>
    private static async Task KeepTraceParentAsync(HttpContext http, Func<Task> next)
    {
        if (http.Request.Path.StartsWithSegments(RoutePrefix.TrimEnd('/'))
            && http.Request.ContentType?.StartsWith(CloudEvent.ContentType, StringComparison.OrdinalIgnoreCase) == true)
        {
            http.Request.EnableBuffering();
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, http.RequestAborted);
            http.Request.Body.Position = 0;
            if (TraceParentOf(body.GetBuffer().AsSpan(0, (int)body.Length)) is { } traceParent)
                http.Request.Headers["Cloudevent.traceparent"] = traceParent;
        }
        await next();
    }

    /// <summary>The top-level "traceparent" string of a structured CloudEvent, or null.</summary>
    private static string? TraceParentOf(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                var isTraceParent = reader.ValueTextEquals("traceparent"u8);
                if (!reader.Read()) return null;
                if (isTraceParent) return reader.TokenType == System.Text.Json.JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: the CloudEvents middleware and the endpoint deal with it.
        }
        return null;
    }

    public static void MapDaprSubscriptions(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<EventBusOptions>>().Value;
        endpoints.MapSubscribeHandler();
        foreach (var subscription in endpoints.ServiceProvider.GetRequiredService<EventSubscriptions>().All)
        {
            var topic = subscription.Topic;
            endpoints.MapPost(RoutePrefix + topic, (HttpContext http, EventDispatcher dispatcher) => ReceiveAsync(topic, http, dispatcher))
                .WithTopic(new TopicOptions { PubsubName = options.PubSubName, Name = topic, DeadLetterTopic = DeadLetters.StreamOf(topic) });
        }
    }

    private static async Task<IResult> ReceiveAsync(string topic, HttpContext http, EventDispatcher dispatcher)
    {
        string Header(string name) => http.Request.Headers["Cloudevent." + name].ToString();
        using var reader = new StreamReader(http.Request.Body);
        var data = await reader.ReadToEndAsync(http.RequestAborted);
        var id = Header("id");
        if (id.Length == 0 || data.Length == 0)
        {
            EventBusTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("topic", topic));
            return Results.Json(new { status = "DROP" });
        }
        var cloudEvent = new CloudEvent
        {
            Id = id,
            Source = Header("source"),
            Type = Header("type"),
            Topic = topic,
            Time = DateTimeOffset.TryParse(Header("time"), out var t) ? t : DateTimeOffset.MinValue,
            DataJson = data,
            TraceParent = Header("traceparent") is { Length: > 0 } tp ? tp : null,
            TraceState = Header("tracestate") is { Length: > 0 } ts ? ts : null,
        };
        var (result, _) = await dispatcher.DispatchAsync(topic, cloudEvent, http.RequestAborted);
        // DROP: the sidecar moves the event to <topic>.deadletter.
        if (result == DispatchResult.Poison) EventBusTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("topic", topic));
        return Results.Json(new
        {
            status = result switch
            {
                DispatchResult.Handled => "SUCCESS",
                DispatchResult.Retry => "RETRY",
                DispatchResult.Poison => "DROP",
                _ => throw new InvalidOperationException($"unknown dispatch result '{result}'"),
            },
        });
    }
}
