using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Packages.Ledger;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

public sealed record FreezeResult(bool Accepted, bool Duplicate, string RefundId, string? RefusalReason);

/// <summary>
/// The two atomic steps of a refund (docs/rules.md §7): the freeze that races metering (R-REF-2)
/// and the exactly-once credit (R-REF-3). Both change Refund's records and the package record in
/// one script: the package prefixes are Packages', shared with Refund for these two steps only
/// (docs/architecture.md, key ownership), through the ledger's package library (lib-package.lua).
/// </summary>
public sealed class RefundLedger(IDatabase redis, OutboxRelay outbox, TimeProvider time)
{
    private static readonly RedisScript FreezeScript = RedisScript.FromResource(typeof(RefundLedger).Assembly, "freeze-for-refund.lua", PackageScriptLibrary.Preamble, PackageScriptLibrary.Assembly);
    private static readonly OutboxScript CompleteScript = OutboxScript.FromResource(typeof(RefundLedger).Assembly, "complete-refund.lua", PackageScriptLibrary.Preamble, PackageScriptLibrary.Assembly);

    /// <summary>Last instant (exclusive) to request a no-reason refund: 00:00 of the 8th day after the purchase day (R-REF-1).</summary>
    public static DateTimeOffset RefundDeadline(DateTimeOffset purchasedAt) => ChinaCalendar.StartOf(ChinaCalendar.DateOf(purchasedAt).AddDays(8));

    /// <summary>R-REF-1 for each package now, by the freeze's rule, changing nothing (refund-eligibility.lua).</summary>
    public async Task<IReadOnlyList<RefundEligibilityScript.Verdict>> EligibilityAsync(string accountId, IReadOnlyList<PackageRecord> packages) =>
        packages.Count == 0 ? [] : await RefundEligibilityScript.Instance.RunAsync(redis,
            new RefundEligibilityScript.Request(accountId, time.GetUtcNow(), [.. packages.Select(p => (p.Id, RefundDeadline(p.PurchasedAt)))]));

    public async Task<FreezeResult> FreezeAsync(string accountId, string packageId, string idempotencyKey, string newRefundId,
        DateTimeOffset purchasedAt, string requestedHistory, string approvedHistory)
    {
        var now = time.GetUtcNow();
        var r = (RedisResult[])(await FreezeScript.RunAsync(redis,
            [RefundKeys.Refund(accountId, newRefundId), RefundKeys.Idempotency(accountId, idempotencyKey), RefundKeys.List(accountId)],
            [RefundKeys.Tag(accountId), newRefundId, packageId, now.ToUnixTimeMilliseconds(), RefundDeadline(purchasedAt).ToUnixTimeMilliseconds(), requestedHistory, approvedHistory]))!;
        var status = (string)r[0]!;
        var id = (string)r[1]!;
        return status switch
        {
            "ok" => new FreezeResult(true, false, id, null),
            "dup" => new FreezeResult(true, true, id, null),
            RefundApplication.ReasonNotFound or RefundApplication.ReasonFree or RefundApplication.ReasonAlreadyRequested
                or RefundApplication.ReasonUsed or RefundApplication.ReasonWindowClosed => new FreezeResult(false, false, id, status),
            _ => throw new InvalidOperationException($"freeze-for-refund.lua answered unknown status '{status}'"),
        };
    }

    /// <summary>Credits an approved refund once; returns 'credited', 'already' or the refund's blocking state.</summary>
    public async Task<string> CompleteAsync(string accountId, string refundId, string packageId, long amountFen, string creditedHistory)
    {
        await outbox.RegisterAsync(RefundKeys.Tag(accountId));
        var now = time.GetUtcNow();
        var completed = new RefundCompleted
        {
            RefundId = refundId, AccountId = accountId, PackageId = packageId, AmountFen = amountFen, CompletedAt = Timestamp.FromDateTimeOffset(now),
        };
        var result = (string)(await CompleteScript.RunAsync(redis,
            [RefundKeys.Refund(accountId, refundId), RefundKeys.Outbox(accountId)],
            [now.ToUnixTimeMilliseconds(), creditedHistory, EventTopics.RefundCompleted, RefundCompleted.Descriptor.FullName, EventJson.Format(completed),
             refundId, RefundKeys.Tag(accountId), packageId]))!;
        if (result == "credited") outbox.Notify(RefundKeys.Tag(accountId));
        return result;
    }
}
