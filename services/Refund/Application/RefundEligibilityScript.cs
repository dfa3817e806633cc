using FaceId.Packages.Ledger;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

/// <summary>
/// refund-eligibility.lua: the read-only preview of R-REF-1, by the rule the freeze itself applies
/// (lib-refund-rules.lua, included by both scripts), so a preview never disagrees with the freeze
/// about the same package at the same instant.
/// </summary>
public sealed class RefundEligibilityScript() : ScriptContract<RefundEligibilityScript.Request, IReadOnlyList<RefundEligibilityScript.Verdict>>(Loaded)
{
    private const string Refundable = "REFUNDABLE";

    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(RefundEligibilityScript).Assembly, "refund-eligibility.lua",
        PackageScriptLibrary.Preamble + LuaPreamble.Of([.. RefundReasons.Lua, ("VERDICT_REFUNDABLE", Refundable)]), PackageScriptLibrary.Assembly);

    public static readonly RefundEligibilityScript Instance = new();

    /// <summary>Packages of one account, each with its refund deadline (exclusive), at <paramref name="Now"/>.</summary>
    public readonly record struct Request(string AccountId, DateTimeOffset Now, IReadOnlyList<(string PackageId, DateTimeOffset Deadline)> Packages);

    /// <summary>One package's verdict: <see cref="Refusal"/> null when it may be refunded; <see cref="Missing"/> when there is no such package.</summary>
    public readonly record struct Verdict(bool Missing, string? Refusal, string RefundId);

    private static readonly HashSet<string> Refusals =
    [
        RefundApplication.ReasonFree, RefundApplication.ReasonAlreadyRequested, RefundApplication.ReasonUsed, RefundApplication.ReasonWindowClosed,
    ];

    // KEYS[1] is not read: it routes the call to the account's slot, where the packages are.
    public override ScriptCall Bind(Request request) => new([RefundKeys.List(request.AccountId)],
    [
        RefundKeys.Tag(request.AccountId), request.Now.ToUnixTimeMilliseconds(),
        .. request.Packages.SelectMany(p => new RedisValue[] { p.PackageId, p.Deadline.ToUnixTimeMilliseconds() }),
    ]);

    public override IReadOnlyList<Verdict> Parse(RedisResult reply) => System.Array.ConvertAll(Array(reply), one =>
    {
        var pair = Array(one);
        var word = (string?)pair[0] ?? "";
        var refundId = (string?)pair[1] ?? "";
        return word switch
        {
            Refundable => new Verdict(false, null, ""),
            RefundApplication.ReasonNotFound => new Verdict(true, null, ""),
            _ when Refusals.Contains(word) => new Verdict(false, word, refundId),
            _ => throw Unexpected($"verdict '{word}'"),
        };
    });
}
