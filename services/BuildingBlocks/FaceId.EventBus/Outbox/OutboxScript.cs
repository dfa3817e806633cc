using System.Diagnostics;
using System.Reflection;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.EventBus.Outbox;

/// <summary>
/// A Lua script that writes events to an outbox with its state change. It includes
/// <c>lib-outbox.lua</c> (<c>outbox_append</c>, the one XADD of an outbox entry) and gets the trace
/// context of the caller's span as its last two ARGV, added here: the script's own arguments never
/// carry it.
/// </summary>
public sealed class OutboxScript : IRedisScript
{
    private readonly RedisScript _script;

    private OutboxScript(RedisScript script) => _script = script;

    /// <summary>As <see cref="RedisScript.FromResource"/>; <c>lib-outbox.lua</c> resolves to this assembly's.</summary>
    public static OutboxScript FromResource(Assembly assembly, string resourceName, params Assembly[] libraries) =>
        new(RedisScript.FromResource(assembly, resourceName, [.. libraries, typeof(OutboxScript).Assembly]));

    /// <summary>With a preamble of generated constants (<see cref="RedisScript.FromResource(Assembly, string, string, Assembly[])"/>).</summary>
    public static OutboxScript FromResource(Assembly assembly, string resourceName, string preamble, params Assembly[] libraries) =>
        new(RedisScript.FromResource(assembly, resourceName, preamble, [.. libraries, typeof(OutboxScript).Assembly]));

    public string Name => _script.Name;

    /// <summary>The script as loaded (includes expanded).</summary>
    public string Text => _script.Text;

    /// <summary>How many ARGV slots the trace context takes at the end of the arguments.</summary>
    public const int TraceArgs = 2;

    public Task<RedisResult> RunAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] args)
    {
        var all = new RedisValue[args.Length + TraceArgs];
        args.CopyTo(all, 0);
        return RunReservedAsync(db, keys, all);
    }

    /// <summary>
    /// Runs with <paramref name="argsWithTraceSlots"/> whose last <see cref="TraceArgs"/> slots are
    /// free for the trace context: the hot path (deduct.lua) builds its array so and avoids a copy.
    /// </summary>
    public Task<RedisResult> RunReservedAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] argsWithTraceSlots)
    {
        (argsWithTraceSlots[^2], argsWithTraceSlots[^1]) = OutboxTrace.Current();
        return _script.RunAsync(db, keys, argsWithTraceSlots);
    }
}

/// <summary>The trace context an outbox entry carries: the current span's, or empty.</summary>
internal static class OutboxTrace
{
    public static (string TraceParent, string TraceState) Current() =>
        (Activity.Current?.Id ?? "", Activity.Current?.TraceStateString ?? "");
}
