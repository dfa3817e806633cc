using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Billing.Infrastructure.Scripts;
using FaceId.Common;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using Microsoft.Extensions.Options;
using ContractCycle = FaceId.Contracts.Common.V1.SettlementCycle;

namespace FaceId.Billing.Application;

/// <summary>
/// R-BIL-1: usage records into statistics, one script per main account per event, deduplicated on
/// the request id in the same script as the counter increments, so an event delivered or replayed
/// twice (under any event id) counts once. The event's refused calls count as refused, once per request id.
/// </summary>
public sealed class UsageChargedHandler(BillingStore store, IOptions<BillingOptions> options, BillingMetrics metrics, TimeProvider time, ILogger<UsageChargedHandler> logger)
    : IEventHandler<UsageCharged>
{
    public async Task HandleAsync(UsageCharged e, EventContext context, CancellationToken ct)
    {
        var byAccount = new Dictionary<string, List<ApplyUsageScript.Record>>(StringComparer.Ordinal);
        void Add(string account, ApplyUsageScript.Record record)
        {
            if (!byAccount.TryGetValue(account, out var rows)) byAccount[account] = rows = [];
            rows.Add(record);
        }
        foreach (var r in e.AllRecords())
        {
            if (string.IsNullOrEmpty(r.RequestId) || string.IsNullOrEmpty(r.AccountId) || string.IsNullOrEmpty(r.Label) || r.OccurredAt is null)
            {
                logger.LogWarning("UsageCharged {EventId}: record '{RequestId}' of '{AccountId}' lacks request id, account, label or time; ignored",
                    context.EventId, r.RequestId, r.AccountId);
                continue;
            }
            var kind = !r.Billable ? UsageKind.NotBillable : r.PackageId.Length > 0 ? UsageKind.Package : UsageKind.Postpaid;
            Add(r.AccountId, new ApplyUsageScript.Record(r.RequestId, kind, ChinaCalendar.DateOf(r.OccurredAt.ToDateTimeOffset()), r.Label, (int)r.AccessMode, r.SubAccountId));
        }
        foreach (var g in e.Refused)
        {
            UsageKind? kind = g.Reason switch
            {
                UsageRefusal.ServiceSuspended => UsageKind.RefusedSuspended,
                UsageRefusal.ServiceNotOpened => UsageKind.RefusedNotOpened,
                UsageRefusal.EnterpriseNotVerified => UsageKind.RefusedNotVerified,
                _ => null,
            };
            if (kind is null || string.IsNullOrEmpty(g.AccountId) || string.IsNullOrEmpty(g.Label) || g.OccurredAtMs.Count != g.RequestIds.Count)
            {
                logger.LogWarning("UsageCharged {EventId}: a refused group of '{AccountId}' lacks a known reason, account, label or times; ignored", context.EventId, g.AccountId);
                continue;
            }
            for (var i = 0; i < g.RequestIds.Count; i++)
            {
                if (string.IsNullOrEmpty(g.RequestIds[i])) continue;
                var day = ChinaCalendar.DateOf(DateTimeOffset.FromUnixTimeMilliseconds(g.OccurredAtMs[i]));
                Add(g.AccountId, new ApplyUsageScript.Record(g.RequestIds[i], kind.Value, day, g.Label, (int)g.AccessMode, g.SubAccountId));
            }
        }
        foreach (var (account, rows) in byAccount)
        {
            var (applied, duplicates) = await store.ApplyUsageAsync(account, rows, time.GetUtcNow(), options.Value.StatisticsRetention);
            metrics.UsageApplied(applied, duplicates);
            if (duplicates > 0)
                logger.LogDebug("UsageCharged {EventId}: {Duplicates} of {Count} records of {Account} were already counted", context.EventId, duplicates, rows.Count, account);
        }
    }
}

/// <summary>R-PKG-4: postpaid calls of the purchase day moved onto a new package.</summary>
public sealed class UsageBackdatedHandler(BillingStore store, TimeProvider time) : IEventHandler<UsageBackdated>
{
    public async Task HandleAsync(UsageBackdated e, EventContext context, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(e.AccountId) || e.RequestIds.Count == 0) return;
        foreach (var chunk in e.RequestIds.Where(r => r.Length > 0).Chunk(1000))
            await store.ApplyBackdateAsync(e.AccountId, e.Label, chunk, time.GetUtcNow());
    }
}

/// <summary>A bought package is a prepaid charge on the bill of its purchase period; free packages cost nothing and are not charged.</summary>
public sealed class PackageDeliveredHandler(BillingStore store) : IEventHandler<PackageDelivered>
{
    public async Task HandleAsync(PackageDelivered e, EventContext context, CancellationToken ct)
    {
        if (e.Free || e.PriceFen <= 0 || string.IsNullOrEmpty(e.AccountId) || string.IsNullOrEmpty(e.PackageId) || e.PurchasedAt is null) return;
        await store.AddPrepaidAsync(e.AccountId,
            new PrepaidCharge(e.PackageId, e.Label, e.Size, e.PriceFen, e.PurchasedAt.ToDateTimeOffset()), e.PriceBook);
    }
}

/// <summary>
/// R-REF-3: a completed refund's amount goes back to the balance at once (paying arrears first, which
/// may resume the service), once per refund id; the next bill lists it as a REFUND_CREDIT line.
/// </summary>
public sealed class RefundCompletedHandler(BillingStore store, TimeProvider time) : IEventHandler<RefundCompleted>
{
    public async Task HandleAsync(RefundCompleted e, EventContext context, CancellationToken ct)
    {
        if (e.AmountFen <= 0 || string.IsNullOrEmpty(e.AccountId) || string.IsNullOrEmpty(e.RefundId)) return;
        var now = time.GetUtcNow();
        await store.CreditRefundAsync(e.AccountId, e.RefundId, e.PackageId, e.AmountFen, e.CompletedAt?.ToDateTimeOffset() ?? now, now);
    }
}

/// <summary>
/// The account's activation date, price book and settlement cycle (docs/rules.md §5.4), recorded once;
/// then the account joins the settlement index.
/// </summary>
public sealed class ServiceActivatedHandler(BillingStore store, IOptions<BillingOptions> options) : IEventHandler<ServiceActivated>
{
    public async Task HandleAsync(ServiceActivated e, EventContext context, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(e.AccountId) || e.ActivatedAt is null) return;
        var activatedAt = e.ActivatedAt.ToDateTimeOffset();
        var (policyBook, policyCycle) = PriceBookPolicy.For(activatedAt);
        var book = string.IsNullOrEmpty(e.PriceBook) ? policyBook : e.PriceBook;
        var cycle = e.SettlementCycle switch
        {
            ContractCycle.Daily => Settlement.Daily,
            ContractCycle.Monthly => Settlement.Monthly,
            ContractCycle.Unspecified => policyCycle, // a producer that leaves it out: the price-book policy's
            var other => throw new InvalidOperationException($"ServiceActivated of {e.AccountId} has unknown settlement cycle '{other}'"),
        };
        await store.ActivateAsync(e.AccountId, activatedAt, book, cycle);
        var account = await store.GetAccountAsync(e.AccountId);
        if (account is not null)
            await store.IndexForSettlementAsync(e.AccountId, account.FirstPeriod.End + options.Value.Grace);
    }
}
