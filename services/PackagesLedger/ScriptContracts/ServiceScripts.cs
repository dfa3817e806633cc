using FaceId.Common;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>activate.lua: opens an account's service in the ledger's view once (R-ONB-2).</summary>
public sealed class ActivateScript() : ScriptContract<ActivateScript.Request, ActivateScript.Result>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(ActivateScript).Assembly, "activate.lua",
        LuaPreamble.Of([("SVC_OPENED", ServiceStates.Opened), .. ServiceFields.Lua]));

    public static readonly ActivateScript Instance = new();

    public readonly record struct Request(string AccountId, DateTimeOffset ActivatedAt, string PriceBook, Settlement Cycle);

    /// <summary>The service as opened (now or before); <paramref name="First"/> when this call opened it.</summary>
    public readonly record struct Result(DateTimeOffset ActivatedAt, string PriceBook, bool First);

    public override ScriptCall Bind(Request request) => new([LedgerKeys.Service(request.AccountId)],
        [request.ActivatedAt.ToUnixTimeMilliseconds(), request.PriceBook, request.Cycle.ToString().ToLowerInvariant()]);

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        if (r.Length != 3) throw Unexpected($"{r.Length} values");
        return new(Ms((string)r[0]!), (string)r[1]!, (long)r[2] switch { 1 => true, 0 => false, var n => throw Unexpected($"first = {n}") });
    }
}

/// <summary>The state of an account's service after a suspension or resumption.</summary>
public enum ServiceStateNow { NeverOpened, Opened, Suspended }

/// <summary>
/// set-service-state.lua: suspends or resumes an opened service, keeping the changes as a history of instants by which
/// deduct.lua judges each record at its own time (R-BIL-4, R-MET-4; <see cref="ServiceHistory"/>): in order of time whatever
/// order they arrive in, a repeat ignored, bounded to the late window before <see cref="Request.Now"/> and the last change before it.
/// </summary>
public sealed class SetServiceStateScript() : ScriptContract<SetServiceStateScript.Request, ServiceStateNow>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(SetServiceStateScript).Assembly, "set-service-state.lua",
        LuaPreamble.Of([("SVC_OPENED", ServiceStates.Opened), ("SVC_SUSPENDED", ServiceStates.Suspended), .. ServiceFields.Lua, .. ServiceHistory.Lua]));

    public static readonly SetServiceStateScript Instance = new();

    private static readonly Dictionary<string, ServiceStateNow> States = new()
    {
        [""] = ServiceStateNow.NeverOpened,
        [ServiceStates.Opened] = ServiceStateNow.Opened,
        [ServiceStates.Suspended] = ServiceStateNow.Suspended,
    };

    /// <param name="At">When the change happened.</param>
    /// <param name="Now">The history's bound: changes older than the late window before it, but the last, are dropped.</param>
    public readonly record struct Request(string AccountId, bool Suspended, DateTimeOffset At, DateTimeOffset Now);

    public override ScriptCall Bind(Request request) => new([LedgerKeys.Service(request.AccountId)],
        [(request.Suspended ? ServiceHistory.Suspended : ServiceHistory.Resumed).ToString(), request.At.ToUnixTimeMilliseconds(), request.Now.ToUnixTimeMilliseconds()]);

    public override ServiceStateNow Parse(RedisResult reply) => Status(reply, States);
}

/// <summary>reschedule.lua: moves a claimed schedule member to its next time, or removes it, unless someone moved it since the claim.</summary>
public sealed class RescheduleScript() : ScriptContract<RescheduleScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(RescheduleScript).Assembly, "reschedule.lua");

    public static readonly RescheduleScript Instance = new();

    /// <param name="Next">The member's next time; null removes it.</param>
    public readonly record struct Request(RedisKey Schedule, string Member, DateTimeOffset ClaimedUntil, DateTimeOffset? Next);

    public override ScriptCall Bind(Request request) => new([request.Schedule],
        [request.Member, request.ClaimedUntil.ToUnixTimeMilliseconds(), request.Next is { } n ? n.ToUnixTimeMilliseconds() : ""]);

    /// <summary>True when moved or removed, false when left as someone else set it.</summary>
    public override bool Parse(RedisResult reply) => (long)reply switch
    {
        1 => true,
        0 => false,
        var n => throw Unexpected($"{n}"),
    };
}
