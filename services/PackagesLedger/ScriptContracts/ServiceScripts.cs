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

/// <summary>set-service-state.lua: suspends or resumes an opened service; a change older than the last applied one is ignored (R-BIL-4).</summary>
public sealed class SetServiceStateScript() : ScriptContract<SetServiceStateScript.Request, ServiceStateNow>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(SetServiceStateScript).Assembly, "set-service-state.lua",
        LuaPreamble.Of(ServiceFields.Lua));

    public static readonly SetServiceStateScript Instance = new();

    private static readonly Dictionary<string, ServiceStateNow> States = new()
    {
        [""] = ServiceStateNow.NeverOpened,
        [ServiceStates.Opened] = ServiceStateNow.Opened,
        [ServiceStates.Suspended] = ServiceStateNow.Suspended,
    };

    public readonly record struct Request(string AccountId, bool Suspended, DateTimeOffset At);

    public override ScriptCall Bind(Request request) => new([LedgerKeys.Service(request.AccountId)],
        [request.Suspended ? ServiceStates.Suspended : ServiceStates.Opened, request.At.ToUnixTimeMilliseconds()]);

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
