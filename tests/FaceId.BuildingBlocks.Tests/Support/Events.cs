using FaceId.Contracts;
using FaceId.EventBus;
using Google.Protobuf;

namespace FaceId.BuildingBlocks.Tests.Support;

/// <summary>CloudEvents built by hand, as another publisher (or a Dapr sidecar) would write them.</summary>
public static class Events
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    public static CloudEvent CloudEventFor<T>(T message, string? id = null, string source = "another-service") where T : IMessage<T>, new() => new()
    {
        Id = id ?? TestKit.TestIds.New("evt"),
        Source = source,
        Type = message.Descriptor.FullName,
        Topic = EventTopics.For(message.Descriptor),
        Time = DateTimeOffset.UtcNow,
        DataJson = Formatter.Format(message),
    };
}
