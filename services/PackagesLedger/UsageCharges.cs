using FaceId.EventBus.Outbox;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// Metering's charge API on the prepaid ledger: <c>deduct.lua</c>, the one atomic step that uses the
/// package counters of Packages (docs/architecture.md, key ownership: the package prefixes are
/// shared with Metering for this step), and the read-back of a request's kept outcome.
/// </summary>
public sealed class UsageCharges(IDatabase redis, OutboxRelay outbox, PackageReader packages, TimeProvider time)
{
    /// <summary>How long a request id is at least remembered after its charge (longer than the late window, R-MET-4).</summary>
    public static readonly TimeSpan RequestIdRetention = LedgerKeys.RequestIdGeneration;

    /// <summary>Charges records of one main account in one atomic script call (deduct.lua, <see cref="DeductScript"/>).</summary>
    public async Task<IReadOnlyList<ChargeResult>> ChargeAsync(string mainAccountId, IReadOnlyList<ChargeRequest> records)
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(mainAccountId));
        // Started first: the outbox entries carry this span's context (OutboxScript adds it).
        using var activity = LedgerTelemetry.StartCharge(records);
        var outcomes = await DeductScript.Instance.ChargeAsync(redis, new(mainAccountId, time.GetUtcNow(), records));
        foreach (var outcome in outcomes)
        {
            // New records and refusals (but an unknown account's, and a kept refusal answered again) are in the outbox's UsageCharged.
            if (outcome.Status is ChargeStatus.Duplicate or ChargeStatus.UnknownAccount || outcome.Duplicate) continue;
            outbox.Notify(LedgerKeys.Tag(mainAccountId));
            break;
        }
        LedgerTelemetry.Charged(activity, outcomes);
        return outcomes;
    }

    /// <summary>
    /// Reads back a recorded request: its charge (status New), or its refusal (<see cref="RefusedKinds"/>: not opened,
    /// suspended, not verified), or null when its id is not kept.
    /// </summary>
    public async Task<ChargeResult?> GetChargeAsync(string mainAccountId, string requestId)
    {
        // Where deduct.lua looks: the current generation's hash, then the previous one's.
        var generation = LedgerKeys.GenerationAt(time.GetUtcNow());
        var batch = redis.CreateBatch();
        var book = batch.HashGetAsync(LedgerKeys.Service(mainAccountId), ServiceFields.PriceBook);
        var reads = new List<Task<RedisValue>>(2);
        for (var g = generation; g >= generation - 1; g--)
            reads.Add(batch.HashGetAsync(LedgerKeys.RequestIds(mainAccountId, g), requestId));
        batch.Execute();
        var priceBook = (string?)await book ?? "";
        foreach (var read in reads)
        {
            var value = (string?)await read;
            if (value is null) continue;
            var kept = ChargeOutcome.WithoutFingerprint(value);
            if (RefusedKinds.Of(kept[0]) is { } refusal) return new ChargeResult(refusal, null);
            var packageId = ChargeOutcome.KeptPackageId(kept);
            var label = packageId is null ? "" : (await packages.GetPackageAsync(mainAccountId, packageId))?.Label ?? "";
            return new ChargeResult(ChargeStatus.New, ChargeOutcome.FromKept(kept, priceBook, label));
        }
        return null;
    }
}
