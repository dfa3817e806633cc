using FaceId.Auth;
using FaceId.Contracts;
using FaceId.Contracts.Operations.V1;
using FaceId.EventBus.Outbox;
using FaceId.SampleService;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using StackExchange.Redis;
using Xunit;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// The EventOperations RPCs every service serves, against the SampleService (ServiceDefaults) in process
/// with a real redis-server: a poison event reaches the dead letters, is listed, counted and re-driven.
/// </summary>
public sealed class EventOperationsTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private const string Topic = EventTopics.ServiceActivated;

    private InProcessService<SampleServiceEntryPoint> Start(bool relay = true) => new InProcessService<SampleServiceEntryPoint>(new Dictionary<string, string?>
    {
        ["Redis:ConnectionString"] = redis.ConnectionString,
        ["EventBus:MaxPollDelayMs"] = "10",
        ["EventBus:ProcessingTimeoutMs"] = "200",
        ["EventBus:RedeliverIntervalMs"] = "50",
        ["EventBus:MaxDeliveryAttempts"] = "3",
        ["EventBus:OutboxRelayEnabled"] = relay ? "true" : "false",
    }).Start();

    private static EventOperations.EventOperationsClient Operator(InProcessService<SampleServiceEntryPoint> service) =>
        new(service.ChannelWithToken(TestAuth.Token(Roles.Operator)));

    [Fact]
    public async Task A_poison_event_is_dead_lettered_listed_counted_and_redriven_once_the_handler_is_fixed()
    {
        await using var service = Start();
        var ops = Operator(service);
        var accountId = TestIds.New("acct");
        await redis.Database.StringSetAsync(ActivationRecorder.PoisonKey(accountId), "1");

        var eventId = await Activate(service.Channel, accountId);

        var letters = await Eventually.GetAsync(
            async () => (await ops.ListDeadLettersAsync(new ListDeadLettersRequest { Topic = Topic })).DeadLetters,
            l => l.Count == 1, Timeout, "the poison event should reach the dead letters");
        var letter = letters[0];
        Assert.Equal(eventId, letter.EventId);
        Assert.Equal("faceid.events.v1.ServiceActivated", letter.EventType);
        Assert.Equal(Topic, letter.Topic);
        Assert.Equal("sample-service", letter.ConsumerGroup);
        Assert.Equal(3, letter.Attempts);
        Assert.Contains("3 failed deliveries", letter.Error);
        Assert.False(string.IsNullOrEmpty(letter.OriginalEntryId));

        var status = await ops.GetEventBusStatusAsync(new GetEventBusStatusRequest());
        Assert.Equal("sample-service", status.Service);
        var subscription = Assert.Single(status.Subscriptions);
        Assert.Equal(Topic, subscription.Topic);
        Assert.Equal(1, subscription.DeadLetters);
        Assert.Equal(await redis.Database.StreamLengthAsync(Topic + ".deadletter"), subscription.DeadLetters);
        Assert.Equal(0, await redis.Database.ListLengthAsync(ActivationRecorder.HandledKey(accountId)));

        await redis.Database.KeyDeleteAsync(ActivationRecorder.PoisonKey(accountId)); // the handler is fixed
        var redriven = await ops.RedriveDeadLettersAsync(new RedriveDeadLettersRequest { Topic = Topic, EntryIds = { letter.EntryId } });

        Assert.Equal(1, redriven.Redriven);
        await Eventually.AssertAsync(async () => await redis.Database.ListLengthAsync(ActivationRecorder.HandledKey(accountId)) == 1, Timeout,
            "the redriven event should be handled");
        // Redriving the same entry again is a no-op, not an error.
        var again = await ops.RedriveDeadLettersAsync(new RedriveDeadLettersRequest { Topic = Topic, EntryIds = { letter.EntryId } });
        Assert.Equal(0, again.Redriven);
        await Eventually.AssertAsync(async () =>
        {
            var s = (await ops.GetEventBusStatusAsync(new GetEventBusStatusRequest())).Subscriptions.Single();
            return s is { DeadLetters: 0, Pending: 0, Lag: 0 };
        }, Timeout, "the group caught up and the dead letters are empty");
        Assert.Empty((await ops.ListDeadLettersAsync(new ListDeadLettersRequest { Topic = Topic })).DeadLetters);
        // Handled exactly once, with the original event id.
        Assert.Equal([(RedisValue)eventId], await redis.Database.ListRangeAsync(ActivationRecorder.HandledKey(accountId)));
    }

    [Fact]
    public async Task The_status_reports_the_outbox_backlog_the_relay_has_not_drained()
    {
        await using var service = Start(relay: false);
        var ops = Operator(service);

        await Activate(service.Channel, TestIds.New("acct"));
        await Activate(service.Channel, TestIds.New("acct"));
        await Task.Delay(20);

        var outbox = (await ops.GetEventBusStatusAsync(new GetEventBusStatusRequest())).Outbox;
        Assert.Equal(2, outbox.Backlog);
        Assert.Equal(2, outbox.NonEmptyOutboxes);
        Assert.True(outbox.OldestEntryAgeSeconds > 0, $"oldest entry age {outbox.OldestEntryAgeSeconds}");
        Assert.Equal(2, (await ((OutboxRelay)service.Services.GetService(typeof(OutboxRelay))!).ReadBacklogAsync()).Entries);
    }

    [Fact]
    public async Task Every_role_but_operator_is_PERMISSION_DENIED()
    {
        await using var service = Start();
        foreach (var role in Roles.All.Where(r => r != Roles.Operator))
        {
            var client = new EventOperations.EventOperationsClient(service.ChannelWithToken(TestAuth.Token(role, Roles.IsAccountBound(role) ? TestIds.New("acct") : null)));
            var denied = await Assert.ThrowsAsync<RpcException>(() => client.GetEventBusStatusAsync(new GetEventBusStatusRequest()).ResponseAsync);
            Assert.True(denied.StatusCode == StatusCode.PermissionDenied, $"{role}: {denied.StatusCode}");
            denied = await Assert.ThrowsAsync<RpcException>(() => client.RedriveDeadLettersAsync(new RedriveDeadLettersRequest { Topic = Topic }).ResponseAsync);
            Assert.True(denied.StatusCode == StatusCode.PermissionDenied, $"{role}: {denied.StatusCode}");
        }
    }

    [Fact]
    public async Task A_topic_not_subscribed_or_a_page_size_out_of_range_is_INVALID_ARGUMENT_with_field_violations()
    {
        await using var service = Start();
        var ops = Operator(service);

        var list = await RpcAssert.ViolationsAsync(() => ops.ListDeadLettersAsync(new ListDeadLettersRequest { Topic = EventTopics.AccountCreated, PageSize = 1001 }).ResponseAsync);
        Assert.Equal(["topic", "page_size"], list.Select(v => v.Field));
        Assert.Equal(["page_size"], (await RpcAssert.ViolationsAsync(() => ops.ListDeadLettersAsync(new ListDeadLettersRequest { Topic = Topic, PageSize = -1 }).ResponseAsync)).Select(v => v.Field));
        Assert.Equal(["topic"], (await RpcAssert.ViolationsAsync(() => ops.ListDeadLettersAsync(new ListDeadLettersRequest()).ResponseAsync)).Select(v => v.Field));
        var redrive = await RpcAssert.ViolationsAsync(() => ops.RedriveDeadLettersAsync(new RedriveDeadLettersRequest { Topic = "nope", EntryIds = { "x" } }).ResponseAsync);
        Assert.Equal(["topic", "entry_ids[0]"], redrive.Select(v => v.Field));
    }

    private static async Task<string> Activate(GrpcChannel channel, string accountId) =>
        (await channel.CreateCallInvoker().AsyncUnaryCall(ProbeApi.Activate, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)),
            new StringValue { Value = accountId })).Value;
}
