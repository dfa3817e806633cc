using System.Text.Json;
using FaceId.EventBus.Outbox;
using FaceId.Packages.Ledger;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

/// <summary>
/// Reads the refund records that the freeze and completion scripts (RefundLedger) write (<see cref="RefundKeys"/>:
/// <c>{acct:M}:ref:&lt;id&gt;</c> hash, its <c>:history</c> list, the <c>{acct:M}:refs</c> index),
/// and records refusals with their RefundRejected event (record-rejection.lua).
/// </summary>
public sealed class RefundStore(IDatabase redis, OutboxRelay outbox)
{
    /// <summary>
    /// Ids this service hands out ("ref_" + hex). Anything else, even a well-formed id, names no
    /// refund; checking it keeps other keys of the <c>ref:</c> namespace (<c>ref:idem:…</c>,
    /// <c>ref:&lt;id&gt;:history</c>) out of reach of GetRefund.
    /// </summary>
    public static bool IsRefundId(string id) => id.StartsWith("ref_", StringComparison.Ordinal) && !id.Contains(':');

    public async Task<RefundRecord?> GetAsync(string accountId, string refundId)
    {
        if (!IsRefundId(refundId)) return null;
        var batch = redis.CreateBatch();
        var hash = batch.HashGetAllAsync(RefundKeys.Refund(accountId, refundId));
        var history = batch.ListRangeAsync(RefundKeys.History(accountId, refundId));
        batch.Execute();
        return ToRecord(accountId, refundId, await hash, await history);
    }

    /// <summary>The account's refunds by request time, oldest first (so offsets stay valid while new ones arrive).</summary>
    public async Task<(IReadOnlyList<RefundRecord> Page, bool More)> ListAsync(string accountId, int offset, int size)
    {
        var ids = await redis.SortedSetRangeByRankAsync(RefundKeys.List(accountId), offset, offset + size); // one extra: is there more?
        var page = ids.Take(size).Select(id => (string)id!).ToList();
        var batch = redis.CreateBatch();
        var reads = page.Select(id => (Id: id, Hash: batch.HashGetAllAsync(RefundKeys.Refund(accountId, id)), History: batch.ListRangeAsync(RefundKeys.History(accountId, id))))
            .ToList();
        batch.Execute();
        var records = new List<RefundRecord>(page.Count);
        foreach (var r in reads)
            if (ToRecord(accountId, r.Id, await r.Hash, await r.History) is { } record) records.Add(record);
        return (records, ids.Length > size);
    }

    /// <summary>
    /// The key's refund id: <paramref name="refundId"/> if recorded now (RefundRejected is then in the
    /// outbox), else the id an earlier request with the same key got (nothing is written).
    /// </summary>
    public async Task<string> RecordRejectionAsync(string accountId, string idempotencyKey, string refundId, PackageRecord package,
        DateTimeOffset now, string reason, RefundTransition requested, RefundTransition rejected)
    {
        var tag = RefundKeys.Tag(accountId);
        await outbox.RegisterAsync(tag);
        var keyOwner = await RecordRejectionScript.Instance.RunAsync(redis,
            new(accountId, idempotencyKey, refundId, package, now, reason, requested, rejected));
        if (keyOwner == refundId) outbox.Notify(tag);
        return keyOwner;
    }

    private static RefundRecord? ToRecord(string accountId, string refundId, HashEntry[] hash, RedisValue[] history)
    {
        if (hash.Length == 0) return null;
        var h = hash.ToDictionary(e => (string)e.Name!, e => e.Value);
        string Text(string field) => h.TryGetValue(field, out var v) && !v.IsNull ? (string)v! : "";
        long Number(string field) => h.TryGetValue(field, out var v) && !v.IsNull ? (long)v : 0;
        return new RefundRecord(
            refundId, accountId, Text(RefundRecordFormat.Package), Text(RefundRecordFormat.Label), Number(RefundRecordFormat.AmountFen),
            RefundStates.FromStored(Text(RefundRecordFormat.State)), Text(RefundRecordFormat.RejectionReason),
            DateTimeOffset.FromUnixTimeMilliseconds(Number(RefundRecordFormat.RequestedAt)),
            history.Select(x => JsonSerializer.Deserialize<RefundHistoryEntry>((string)x!)!.ToTransition()).ToList());
    }
}
