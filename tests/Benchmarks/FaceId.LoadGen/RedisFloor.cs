using StackExchange.Redis;

namespace FaceId.LoadGen;

/// <summary>
/// The Redis floor of the open-loop table: the deduction script alone (EVALSHA, one record, a fresh
/// request id per call) at the same fixed rate as the gRPC runs, over one multiplexed connection as
/// Metering uses. redis-benchmark (7.0) has no rate option: it can only run closed loops.
/// </summary>
public sealed class RedisFloor(IDatabase db, object[] arguments, string idPrefix)
{
    /// <summary>The placeholder in the argument file that each call replaces with a fresh request id.</summary>
    public const string IdPlaceholder = "__id__";

    private readonly int _idAt = Array.IndexOf(arguments, IdPlaceholder);

    /// <summary>Arguments of EVALSHA after the command name (sha, key count, keys, args), one a line.</summary>
    public static object[] ReadArguments(string path) => File.ReadAllLines(path).Cast<object>().ToArray();

    public async Task<CallOutcome> CallAsync(int lane, long seq, KindCounts kinds, CancellationToken ct)
    {
        var args = (object[])arguments.Clone();
        if (_idAt >= 0) args[_idAt] = $"{idPrefix}-{lane}-{seq}";
        var reply = await db.ExecuteAsync("EVALSHA", args);
        return reply.IsNull ? new CallOutcome(1, 1, "deduct.lua answered nil") : new CallOutcome(1, 0, null);
    }
}
