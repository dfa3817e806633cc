using FaceId.Redis;
using Google.Protobuf;
using StackExchange.Redis;

namespace FaceId.TestKit;

/// <summary>The round trip of a script's typed contract against a real Redis, and the events it wrote.</summary>
public static class ScriptRoundTrip
{
    /// <summary>Bind → run the script → Parse, each step visible (what <c>RunAsync</c> does in one call).</summary>
    public static async Task<TResult> RoundTripAsync<TRequest, TResult>(this ScriptContract<TRequest, TResult> contract, IDatabase db, TRequest request)
    {
        var call = contract.Bind(request);
        return contract.Parse(await contract.Script.RunAsync(db, call.Keys, call.Args));
    }

    /// <summary>The entries of an outbox stream: topic, event id ("" when the relay derives one) and data.</summary>
    public static async Task<IReadOnlyList<(string Topic, string Id, string Data)>> OutboxAsync(IDatabase db, string outboxKey) =>
        (await db.StreamRangeAsync(outboxKey)).Select(e => ((string)e["topic"]!, (string?)e["id"] ?? "", (string)e["data"]!)).ToList();

    /// <summary>An event's JSON parsed strictly: a field the proto does not know fails the test.</summary>
    public static T StrictEvent<T>(string json) where T : IMessage<T>, new() => Strict.Parse<T>(json);

    private static readonly JsonParser Strict = new(JsonParser.Settings.Default);
}
