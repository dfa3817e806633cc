using FaceId.Common;
using FaceId.EventBus.Outbox;
using FaceId.Packages.Ledger;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

/// <summary>
/// The two atomic steps of a refund (docs/rules.md §7): the freeze that races metering (R-REF-2)
/// and the exactly-once credit (R-REF-3). Both change Refund's records and the package record in
/// one script: the package prefixes are Packages', shared with Refund for these two steps only
/// (docs/architecture.md, key ownership), through the ledger's package library (lib-package.lua).
/// </summary>
public sealed class RefundLedger(IDatabase redis, OutboxRelay outbox, TimeProvider time)
{
    /// <summary>Last instant (exclusive) to request a no-reason refund: 00:00 of the 8th day after the purchase day (R-REF-1).</summary>
    public static DateTimeOffset RefundDeadline(DateTimeOffset purchasedAt) => ChinaCalendar.StartOf(ChinaCalendar.DateOf(purchasedAt).AddDays(8));

    /// <summary>R-REF-1 for each package now, by the freeze's rule, changing nothing (refund-eligibility.lua).</summary>
    public async Task<IReadOnlyList<RefundEligibilityScript.Verdict>> EligibilityAsync(string accountId, IReadOnlyList<PackageRecord> packages) =>
        packages.Count == 0 ? [] : await RefundEligibilityScript.Instance.RunAsync(redis,
            new RefundEligibilityScript.Request(accountId, time.GetUtcNow(), [.. packages.Select(p => (p.Id, RefundDeadline(p.PurchasedAt)))]));

    public Task<FreezeResult> FreezeAsync(string accountId, string packageId, string idempotencyKey, string newRefundId,
        DateTimeOffset purchasedAt, RefundTransition requested, RefundTransition approved) =>
        FreezeForRefundScript.Instance.RunAsync(redis, new(accountId, newRefundId, packageId, idempotencyKey, time.GetUtcNow(),
            RefundDeadline(purchasedAt), requested, approved));

    /// <summary>Credits an approved refund once (complete-refund.lua); <paramref name="note"/> is the credit's history note.</summary>
    public async Task<CompletionOutcome> CompleteAsync(string accountId, string refundId, string packageId, long amountFen, string note)
    {
        await outbox.RegisterAsync(RefundKeys.Tag(accountId));
        var outcome = await CompleteRefundScript.Instance.RunAsync(redis, new(accountId, refundId, packageId, amountFen, time.GetUtcNow(), note));
        if (outcome == CompletionOutcome.Credited) outbox.Notify(RefundKeys.Tag(accountId));
        return outcome;
    }
}
