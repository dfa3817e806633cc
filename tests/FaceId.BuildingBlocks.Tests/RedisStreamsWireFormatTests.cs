using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaceId.BuildingBlocks.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// Decision 8 (docs/architecture.md): the Redis Streams transport writes Dapr pubsub.redis's layout — stream key =
/// topic constant, one field <c>data</c> = a CloudEvent 1.0 JSON whose data is the protobuf JSON.
/// </summary>
public sealed class RedisStreamsWireFormatTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Publishing_adds_one_data_field_holding_a_CloudEvent_to_the_topic_stream()
    {
        var appId = TestIds.AppId("wire");
        await using var host = await BusHost.StartAsync(redis.ConnectionString, appId, output: output);
        var accountId = TestIds.New("acct");
        var activatedAt = new DateTimeOffset(2024, 3, 1, 8, 30, 0, TimeSpan.Zero);
        var @event = new ServiceActivated
        {
            AccountId = accountId,
            ApplicationId = "app-1",
            ActivatedAt = Timestamp.FromDateTimeOffset(activatedAt),
            PriceBook = "2021-06",
        };
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        await host.Get<IEventBus>().PublishAsync(@event);

        var entries = await Streams.EntriesForAccountAsync(redis.Database, EventTopics.ServiceActivated, accountId);
        var entry = Assert.Single(entries);
        var field = Assert.Single(entry.Values);
        Assert.Equal("data", (string)field.Name!);

        using var doc = JsonDocument.Parse((string)field.Value!);
        var ce = doc.RootElement;
        Assert.Equal("1.0", ce.GetProperty("specversion").GetString());
        Assert.Matches("^[0-9a-f]{32}$", ce.GetProperty("id").GetString());
        Assert.Equal(appId, ce.GetProperty("source").GetString());
        Assert.Equal("faceid.events.v1.ServiceActivated", ce.GetProperty("type").GetString());
        Assert.Equal(EventTopics.ServiceActivated, ce.GetProperty("topic").GetString());
        Assert.Equal("application/json", ce.GetProperty("datacontenttype").GetString());
        var time = DateTimeOffset.Parse(ce.GetProperty("time").GetString()!);
        Assert.InRange(time, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal("pubsub", ce.GetProperty("pubsubname").GetString());

        // data is the protobuf JSON mapping of the message: an object with lowerCamelCase names, parseable back.
        var data = ce.GetProperty("data");
        Assert.Equal(JsonValueKind.Object, data.ValueKind);
        Assert.Equal(accountId, data.GetProperty("accountId").GetString());
        Assert.Equal("2024-03-01T08:30:00Z", data.GetProperty("activatedAt").GetString());
        Assert.Equal(@event, JsonParser.Default.Parse<ServiceActivated>(data.GetRawText()));
    }

    [Fact]
    public async Task Publishing_inside_an_activity_carries_its_trace_id_as_traceparent()
    {
        await using var host = await BusHost.StartAsync(redis.ConnectionString, TestIds.AppId("trace"), output: output);
        var accountId = TestIds.New("acct");
        using var activity = new Activity("test-operation").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.TraceStateString = "faceid=test";

        await host.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = accountId });
        activity.Stop();

        var entry = Assert.Single(await Streams.EntriesForAccountAsync(redis.Database, EventTopics.ServiceActivated, accountId));
        using var doc = JsonDocument.Parse((string)entry["data"]!);
        var traceparent = doc.RootElement.GetProperty("traceparent").GetString()!;
        // Same trace; the span is the caller's or, when the bus's ActivitySource is listened to, its publish span.
        Assert.Matches(new Regex($"^00-{activity.TraceId.ToHexString()}-[0-9a-f]{{16}}-0[01]$"), traceparent);
        Assert.Equal("faceid=test", doc.RootElement.GetProperty("tracestate").GetString());
    }

    [Fact]
    public async Task The_topic_of_each_event_is_its_explicit_constant_not_a_type_name()
    {
        await using var host = await BusHost.StartAsync(redis.ConnectionString, TestIds.AppId("topics"), output: output);
        var accountId = TestIds.New("acct");

        await host.Get<IEventBus>().PublishAsync(new AccountCreated { AccountId = accountId });

        var entries = await redis.Database.StreamRangeAsync(EventTopics.AccountCreated);
        Assert.Contains(entries, e => ((string)e["data"]!).Contains(accountId, StringComparison.Ordinal));
        Assert.Equal("faceid.accounts.created.v1", EventTopics.For<AccountCreated>());
        Assert.False(await redis.Database.KeyExistsAsync("faceid.events.v1.AccountCreated"));
    }
}
