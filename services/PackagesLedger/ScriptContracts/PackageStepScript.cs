using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>A time-based step of a package (PackageSchedule), in due order.</summary>
public enum PackageStep { Expiring7D, Expiring1D, Expired, Prune }

/// <summary>What a package step did.</summary>
public enum PackageStepOutcome { Raised, Skipped, Pruned, Missing }

/// <summary>
/// expiry-alert.lua: one time-based step of one package (R-PKG-6, R-PKG-2): the expiring and expired
/// alerts once if calls remain; the prune of its group from the deduction index after the late window.
/// </summary>
public sealed class PackageStepScript() : ScriptContract<PackageStepScript.Request, PackageStepOutcome>(Loaded)
{
    private static readonly Dictionary<string, PackageStepOutcome> Outcomes = new()
    {
        ["raised"] = PackageStepOutcome.Raised,
        ["skipped"] = PackageStepOutcome.Skipped,
        ["pruned"] = PackageStepOutcome.Pruned,
        ["missing"] = PackageStepOutcome.Missing,
    };

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(PackageStepScript).Assembly, "expiry-alert.lua",
        PackageScriptLibrary.Preamble + LuaPreamble.Of(PackageScriptLibrary.StatusConstants(Outcomes)));

    public static readonly PackageStepScript Instance = new();

    public readonly record struct Request(string AccountId, string PackageId, PackageStep Step, DateTimeOffset Now);

    public override ScriptCall Bind(Request r) => new([LedgerKeys.Outbox(r.AccountId)],
    [
        LedgerKeys.Tag(r.AccountId), r.AccountId, r.PackageId, AlertOf(r.Step) is { } kind ? PackageAlertFlags.ProtoName(kind) : "",
        r.Now.ToUnixTimeMilliseconds(), PackageLedger.Iso(r.Now), EventTopics.PackageAlert, PackageAlert.Descriptor.FullName,
    ]);

    public override PackageStepOutcome Parse(RedisResult reply) => Status(reply, Outcomes);

    /// <summary>The alert a step raises; null for the prune.</summary>
    public static PackageAlertKind? AlertOf(PackageStep step) => step switch
    {
        PackageStep.Expiring7D => PackageAlertKind.Expiring7D,
        PackageStep.Expiring1D => PackageAlertKind.Expiring1D,
        PackageStep.Expired => PackageAlertKind.Expired,
        PackageStep.Prune => null,
        _ => throw new InvalidOperationException($"unknown package step '{step}'"),
    };
}
