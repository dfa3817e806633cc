using FaceId.Common;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.EventBus.Transports;
using Microsoft.Extensions.Options;

namespace FaceId.ServiceDefaults.Operations;

/// <summary>
/// What an operator sees of and does with this service's event bus: the state the metrics gauges
/// report (read fresh from <see cref="ConsumerLagMonitor"/>), the outbox backlog, and the dead
/// letters of the topics this service subscribes to.
/// </summary>
public sealed class EventBusOperations(
    EventSubscriptions subscriptions,
    ConsumerLagMonitor lagMonitor,
    OutboxRelay relay,
    DeadLetters deadLetters,
    IOptions<EventBusOptions> options)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public string AppId => options.Value.AppId;

    public async Task<(IReadOnlyList<ConsumerGroupState> Subscriptions, OutboxBacklog Outbox)> StatusAsync(CancellationToken ct) =>
        (await lagMonitor.SampleAsync(), await relay.ReadBacklogAsync(ct));

    public async Task<IReadOnlyList<(DeadLetter Letter, CloudEvent? Event)>> ListDeadLettersAsync(string topic, int pageSize)
    {
        var validate = new InputValidator();
        CheckTopic(validate, topic);
        validate.Require(pageSize is >= 0 and <= MaxPageSize, "page_size", $"must be between 1 and {MaxPageSize} (0 means {DefaultPageSize})");
        validate.ThrowIfInvalid();
        var letters = await deadLetters.ListAsync(topic, pageSize == 0 ? DefaultPageSize : pageSize);
        return [.. letters.Select(l => (l, TryParse(l.CloudEventJson)))];
    }

    /// <summary>Re-drives the named entries, or the topic's oldest <see cref="MaxPageSize"/> when none are named.</summary>
    public Task<int> RedriveAsync(string topic, IReadOnlyList<string> entryIds)
    {
        var validate = new InputValidator();
        CheckTopic(validate, topic);
        validate.Require(entryIds.Count <= MaxPageSize, "entry_ids", $"at most {MaxPageSize} per call");
        for (var i = 0; i < entryIds.Count; i++)
            validate.Require(IsStreamId(entryIds[i]), $"entry_ids[{i}]", "must be a stream entry id such as 1700000000000-0");
        validate.ThrowIfInvalid();
        return entryIds.Count == 0 ? deadLetters.RedriveAsync(topic, MaxPageSize) : deadLetters.RedriveAsync(topic, entryIds);
    }

    private void CheckTopic(InputValidator validate, string topic)
    {
        if (string.IsNullOrEmpty(topic)) validate.Add("topic", "is required");
        else validate.Require(subscriptions.Find(topic) is not null, "topic", $"is not a topic {AppId} subscribes to");
    }

    private static bool IsStreamId(string id) =>
        id.Split('-') is [var ms, var seq] && ulong.TryParse(ms, out _) && ulong.TryParse(seq, out _);

    /// <summary>The CloudEvent of a dead letter, or null when it is what got it dead-lettered (malformed).</summary>
    private static CloudEvent? TryParse(string json)
    {
        try { return CloudEvent.Parse(System.Text.Encoding.UTF8.GetBytes(json)); }
        catch (MalformedEventException) { return null; }
    }
}
