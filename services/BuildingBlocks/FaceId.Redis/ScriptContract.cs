using System.Globalization;
using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>A loaded Lua script that can run: <see cref="RedisScript"/>, or an outbox script (FaceId.EventBus) that adds the trace context.</summary>
public interface IRedisScript
{
    string Name { get; }
    string Text { get; }
    Task<RedisResult> RunAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] args);
}

/// <summary>The KEYS and ARGV of one script call, in the script's positions.</summary>
public readonly record struct ScriptCall(RedisKey[] Keys, RedisValue[] Args);

/// <summary>
/// The typed contract of one Lua script: the only place that knows its KEYS and ARGV positions and the
/// shape of its reply. Callers pass a typed request and get a typed result; an answer the contract
/// does not know is a <see cref="UnexpectedScriptReplyException"/> (an internal error that names the
/// script and the answer), never a business outcome.
/// </summary>
public abstract class ScriptContract<TRequest, TResult>
{
    protected ScriptContract(IRedisScript script) => Script = script;

    public IRedisScript Script { get; }

    /// <summary>The request in the script's KEYS and ARGV positions.</summary>
    public abstract ScriptCall Bind(TRequest request);

    /// <summary>The script's reply as a typed result; throws <see cref="UnexpectedScriptReplyException"/> on an unknown shape or status.</summary>
    public abstract TResult Parse(RedisResult reply);

    public async Task<TResult> RunAsync(IDatabaseAsync db, TRequest request)
    {
        var (result, notConfirmed) = await RunUnconfirmedAsync(db, request);
        return notConfirmed is null ? result : throw notConfirmed;
    }

    /// <summary>
    /// Runs the call like <see cref="RunAsync"/>, but a write the replicas did not confirm comes back with the reason
    /// instead of throwing: for a contract that can tell, after a failover, whether its write survived on the new
    /// master (<see cref="ReplicationNotConfirmedException.HandedOver"/>).
    /// </summary>
    protected async Task<(TResult Result, ReplicationNotConfirmedException? NotConfirmed)> RunUnconfirmedAsync(IDatabaseAsync db, TRequest request)
    {
        var call = Bind(request);
        RedisResult reply;
        try
        {
            reply = await Script.RunAsync(db, call.Keys, call.Args);
        }
        catch (RedisConnectionException) when (db.Multiplexer.GetServers().Length > 1)
        {
            // With several nodes, no connection for the key's slot may mean the slot moved to another node (failover).
            _ = TopologyRefresh.Request(db.Multiplexer);
            throw;
        }
        TResult result;
        try
        {
            result = Parse(reply);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or IndexOutOfRangeException or OverflowException or ArgumentException)
        {
            throw new UnexpectedScriptReplyException(Script.Name, $"a reply it cannot parse ({e.Message})", e);
        }
        // Answered only after the replicas hold the write (a no-op unless Redis:ReplicaAcks > 0): callers whose writes
        // the master answered share one confirmation, so a coalesced group of charges (one deduct.lua call) and the
        // calls of other callers meanwhile wait for the replicas together.
        try
        {
            if (call.Keys.Length > 0) await ReplicaAcknowledgement.ConfirmAsync(db, call.Keys[0]);
        }
        catch (ReplicationNotConfirmedException e)
        {
            return (result, e);
        }
        return (result, null);
    }

    /// <summary>The reply's status word mapped through <paramref name="known"/>; an unknown word fails loudly.</summary>
    protected T Status<T>(RedisResult status, IReadOnlyDictionary<string, T> known)
    {
        var word = (string?)status ?? "";
        return known.TryGetValue(word, out var value) ? value : throw Unexpected($"status '{word}'");
    }

    /// <summary>An exception for an answer this contract does not know.</summary>
    protected UnexpectedScriptReplyException Unexpected(string what) => new(Script.Name, what);

    protected static long Long(RedisResult r) => long.Parse((string)r!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    protected static long Long(string s) => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    protected static DateTimeOffset Ms(string s) => DateTimeOffset.FromUnixTimeMilliseconds(Long(s));

    protected static RedisResult[] Array(RedisResult r) => (RedisResult[])r!;
}

/// <summary>A script answered something its contract does not know: a fault of the platform, reported as INTERNAL with this message.</summary>
public sealed class UnexpectedScriptReplyException(string script, string what, Exception? inner = null)
    : InvalidOperationException($"{script} answered {what}, which its contract does not know.", inner)
{
    public string ScriptName { get; } = script;
}
