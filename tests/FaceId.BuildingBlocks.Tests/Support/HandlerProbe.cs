using System.Collections.Concurrent;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;

namespace FaceId.BuildingBlocks.Tests.Support;

public sealed record Delivery(string Host, string EventId, string AccountId, int Attempt, ServiceActivated Event, EventContext Context);

/// <summary>
/// Shared by the handlers of one test (possibly across several hosts): records every attempt and
/// every success, and lets the test decide how the handler behaves per attempt.
/// </summary>
public sealed class HandlerProbe
{
    private readonly ConcurrentDictionary<string, int> _attemptsByEvent = new();

    public ConcurrentQueue<Delivery> Attempts { get; } = new();
    public ConcurrentQueue<Delivery> Successes { get; } = new();

    /// <summary>Runs inside the handler after the attempt is recorded; throw to fail the attempt.</summary>
    public Func<Delivery, CancellationToken, Task> Behavior { get; set; } = (_, _) => Task.CompletedTask;

    public IReadOnlyList<Delivery> AttemptsFor(string accountId) => Attempts.Where(d => d.AccountId == accountId).ToList();
    public IReadOnlyList<Delivery> SuccessesFor(string accountId) => Successes.Where(d => d.AccountId == accountId).ToList();

    internal async Task HandleAsync(string host, ServiceActivated @event, EventContext context, CancellationToken ct)
    {
        var attempt = _attemptsByEvent.AddOrUpdate(context.EventId, 1, (_, n) => n + 1);
        var delivery = new Delivery(host, context.EventId, @event.AccountId, attempt, @event, context);
        Attempts.Enqueue(delivery);
        await Behavior(delivery, ct);
        Successes.Enqueue(delivery);
    }
}

/// <summary>Names the host a handler runs in (one per BusHost).</summary>
public sealed record HostName(string Value);

/// <summary>The typed handler the tests subscribe: it defers to the test's <see cref="HandlerProbe"/>.</summary>
public sealed class ProbeHandler(HandlerProbe probe, HostName host) : IEventHandler<ServiceActivated>
{
    public Task HandleAsync(ServiceActivated @event, EventContext context, CancellationToken cancellationToken) =>
        probe.HandleAsync(host.Value, @event, context, cancellationToken);
}
