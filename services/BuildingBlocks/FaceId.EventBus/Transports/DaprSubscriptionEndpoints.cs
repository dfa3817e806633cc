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

    public static void UseDaprCloudEvents(this IApplicationBuilder app) =>
        app.UseCloudEvents(new CloudEventsMiddlewareOptions { ForwardCloudEventPropertiesAsHeaders = true });

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
            return Results.Json(new { status = "DROP" });
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
        return Results.Json(new
        {
            status = result switch
            {
                DispatchResult.Handled => "SUCCESS",
                DispatchResult.Retry => "RETRY",
                _ => "DROP",
            },
        });
    }
}
