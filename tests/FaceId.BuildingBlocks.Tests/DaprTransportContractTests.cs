using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapr.Client;
using FaceId.BuildingBlocks.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Transports;
using FaceId.Redis;
using FaceId.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// The Dapr transport against the sidecar's contract, without a sidecar: what it sends to
/// PublishEvent, and how its subscription endpoints answer what a sidecar delivers.
/// </summary>
public sealed class DaprTransportContractTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const string PubSubName = "faceid-pubsub";
    private const string Topic = EventTopics.ServiceActivated;

    private static Dictionary<string, string?> DaprSettings => new()
    {
        ["EventBus:Transport"] = "Dapr",
        ["EventBus:PubSubName"] = PubSubName,
    };

    [Fact]
    public async Task Publishing_sends_the_CloudEvent_to_the_sidecar_as_PublishEvent_with_cloudevents_content_type()
    {
        await using var sidecar = await DaprSidecarDouble.StartAsync();
        var appId = TestIds.AppId("daprpub");
        await using var host = await BusHost.StartAsync(redis.ConnectionString, appId, settings: DaprSettings,
            services: s => s.AddSingleton(new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).Build()),
            output: output);
        Assert.IsType<DaprTransport>(host.Get<IEventTransport>());
        var accountId = TestIds.New("acct");

        await host.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = accountId, PriceBook = "2021-06" });

        var request = Assert.Single(sidecar.Requests);
        Assert.Equal(PubSubName, request.PubsubName);
        Assert.Equal(Topic, request.Topic);
        Assert.Equal(CloudEvent.ContentType, request.DataContentType);
        using var doc = JsonDocument.Parse(request.Data.ToByteArray());
        var ce = doc.RootElement;
        Assert.Equal("1.0", ce.GetProperty("specversion").GetString());
        Assert.Equal(appId, ce.GetProperty("source").GetString());
        Assert.Equal("faceid.events.v1.ServiceActivated", ce.GetProperty("type").GetString());
        Assert.Equal(Topic, ce.GetProperty("topic").GetString());
        Assert.Equal(PubSubName, ce.GetProperty("pubsubname").GetString());
        Assert.Equal(accountId, ce.GetProperty("data").GetProperty("accountId").GetString());
        Assert.Equal("2021-06", ce.GetProperty("data").GetProperty("priceBook").GetString());
    }

    [Fact]
    public async Task Both_transports_put_the_same_bytes_on_the_wire_for_the_same_CloudEvent()
    {
        await using var sidecar = await DaprSidecarDouble.StartAsync();
        await using var daprHost = await BusHost.StartAsync(redis.ConnectionString, TestIds.AppId("daprwire"), settings: DaprSettings,
            services: s => s.AddSingleton(new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).Build()),
            output: output);
        await using var redisHost = await BusHost.StartAsync(redis.ConnectionString, TestIds.AppId("rediswire"), output: output);
        var accountId = TestIds.New("acct");
        var cloudEvent = Events.CloudEventFor(new ServiceActivated { AccountId = accountId }) with
        {
            PubSubName = PubSubName,
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        };

        await daprHost.Get<IEventTransport>().PublishAsync(cloudEvent, CancellationToken.None);
        await redisHost.Get<IEventTransport>().PublishAsync(cloudEvent, CancellationToken.None);

        var viaDapr = Assert.Single(sidecar.Requests).Data.ToByteArray();
        var viaRedis = (byte[])Assert.Single(await Streams.EntriesForAccountAsync(redis.Database, Topic, accountId))["data"]!;
        Assert.Equal(Encoding.UTF8.GetString(viaRedis), Encoding.UTF8.GetString(viaDapr));
        Assert.Equal(cloudEvent.Id, CloudEvent.Parse(viaDapr).Id);
    }

    [Fact]
    public async Task The_app_declares_its_subscriptions_to_the_sidecar_with_route_and_dead_letter_topic()
    {
        await using var app = await SubscriberApp.StartAsync(redis.ConnectionString, TestIds.AppId("daprsub"), new HandlerProbe());

        var json = await app.Client.GetStringAsync("/dapr/subscribe");

        using var doc = JsonDocument.Parse(json);
        var subscription = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(Topic, Property(subscription, "topic").GetString());
        Assert.Equal(PubSubName, Property(subscription, "pubsubname").GetString());
        // Dapr.AspNetCore lists routes without the leading slash; the sidecar POSTs to /events/<topic>.
        Assert.Equal(DaprSubscriptionEndpoints.RoutePrefix + Topic, "/" + Property(subscription, "route").GetString()!.TrimStart('/'));
        Assert.Equal(Topic + ".deadletter", Property(subscription, "deadLetterTopic").GetString());
    }

    [Fact]
    public async Task A_delivered_CloudEvent_is_handled_once_and_answered_with_Dapr_statuses()
    {
        var probe = new HandlerProbe();
        var accountId = TestIds.New("acct");
        await using var app = await SubscriberApp.StartAsync(redis.ConnectionString, TestIds.AppId("daprrecv"), probe);
        var cloudEvent = Events.CloudEventFor(new ServiceActivated { AccountId = accountId, PriceBook = "legacy" }) with { PubSubName = PubSubName };

        var first = await app.DeliverAsync(cloudEvent.ToJsonBytes());
        Assert.Equal(HttpStatusCode.OK, first.Code);
        Assert.Equal("SUCCESS", first.Status);
        var handled = Assert.Single(probe.SuccessesFor(accountId));
        Assert.Equal(cloudEvent.Id, handled.EventId);
        Assert.Equal("legacy", handled.Event.PriceBook);
        Assert.Equal(cloudEvent.Source, handled.Context.Source);
        Assert.Equal(Topic, handled.Context.Topic);

        var again = await app.DeliverAsync(cloudEvent.ToJsonBytes());
        Assert.Equal("SUCCESS", again.Status);
        Assert.Single(probe.AttemptsFor(accountId));
    }

    [Fact]
    public async Task A_failing_handler_answers_RETRY_and_garbage_answers_DROP()
    {
        var probe = new HandlerProbe();
        var accountId = TestIds.New("acct");
        probe.Behavior = (d, _) => d.AccountId == accountId ? throw new InvalidOperationException("down") : Task.CompletedTask;
        await using var app = await SubscriberApp.StartAsync(redis.ConnectionString, TestIds.AppId("daprfail"), probe);

        var failing = await app.DeliverAsync(Events.CloudEventFor(new ServiceActivated { AccountId = accountId }).ToJsonBytes());
        Assert.Equal(HttpStatusCode.OK, failing.Code);
        Assert.Equal("RETRY", failing.Status);
        Assert.Single(probe.AttemptsFor(accountId));

        var garbageData = Events.CloudEventFor(new ServiceActivated()) with { DataJson = "{\"activatedAt\":\"yesterday\"}" };
        Assert.Equal("DROP", (await app.DeliverAsync(garbageData.ToJsonBytes())).Status);

        var wrongType = Events.CloudEventFor(new AccountCreated { AccountId = accountId }) with { Topic = Topic };
        Assert.Equal("DROP", (await app.DeliverAsync(wrongType.ToJsonBytes())).Status);

        var noId = Encoding.UTF8.GetBytes("{\"specversion\":\"1.0\",\"type\":\"faceid.events.v1.ServiceActivated\",\"datacontenttype\":\"application/json\",\"data\":{\"accountId\":\"x\"}}");
        Assert.Equal("DROP", (await app.DeliverAsync(noId)).Status);
        Assert.Empty(probe.SuccessesFor(accountId));
    }

    private static JsonElement Property(JsonElement obj, string name) =>
        obj.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) is { Value.ValueKind: not JsonValueKind.Undefined } p
            ? p.Value
            : throw new Xunit.Sdk.XunitException($"'{name}' missing in {obj}");

    /// <summary>A WebApplication on a TestServer with the Dapr transport and MapFaceIdEventBus(), as a service with Transport=Dapr runs.</summary>
    private sealed class SubscriberApp : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private SubscriberApp(WebApplication app)
        {
            _app = app;
            Client = app.GetTestClient();
        }

        public HttpClient Client { get; }

        public static async Task<SubscriberApp> StartAsync(string redisConnectionString, string appId, HandlerProbe probe)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(DaprSettings)
            {
                ["Redis:ConnectionString"] = redisConnectionString,
            });
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(probe);
            builder.Services.AddSingleton(new HostName("dapr-app"));
            builder.Services.AddFaceIdRedis();
            builder.Services.AddFaceIdEventBus(builder.Configuration, appId)
                .AddSubscription<ServiceActivated, ProbeHandler>();
            var app = builder.Build();
            app.MapFaceIdEventBus();
            await app.StartAsync();
            return new SubscriberApp(app);
        }

        /// <summary>POSTs what a sidecar delivers: the structured CloudEvent, data as a JSON object.</summary>
        public async Task<(HttpStatusCode Code, string? Status)> DeliverAsync(byte[] cloudEventJson)
        {
            var content = new ByteArrayContent(cloudEventJson);
            content.Headers.ContentType = new MediaTypeHeaderValue(CloudEvent.ContentType);
            using var response = await Client.PostAsync(DaprSubscriptionEndpoints.RoutePrefix + Topic, content);
            var body = await response.Content.ReadAsStringAsync();
            using var doc = JsonDocument.Parse(body);
            return (response.StatusCode, doc.RootElement.GetProperty("status").GetString());
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
