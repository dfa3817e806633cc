using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Common;
using FaceId.Packages.Catalog;
using Microsoft.Extensions.Options;

namespace FaceId.Billing.Application;

/// <summary>
/// Settlement (R-BIL-2): periods are settled in order, each exactly once, by whichever replica
/// claims the account first; on demand (SettlePeriod) or by the scheduler after the grace time.
/// The pricing itself is <see cref="SettlementCalculator"/>; this class gathers its inputs and
/// issues the result through one atomic script (<c>issue-bill.lua</c>).
/// </summary>
public sealed class SettlementService(
    BillingStore store,
    ProductCatalog catalog,
    BillingMetrics metrics,
    IOptions<BillingOptions> options,
    TimeProvider time,
    ILogger<SettlementService> logger)
{
    private static readonly TimeSpan ClaimWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SettleKeyRetention = TimeSpan.FromDays(400);

    /// <summary>
    /// SettlePeriod: the bill of the period (day or month, per the account's cycle) containing
    /// <paramref name="periodInstant"/>; earlier unsettled periods are settled first, in order.
    /// </summary>
    public async Task<IssuedBill> SettleAsync(string idempotencyKey, string accountId, DateTimeOffset? periodInstant)
    {
        var v = new InputValidator().Id("idempotency_key", idempotencyKey).Id("account_id", accountId);
        QueryRange.Instant(v, "period_instant", periodInstant);
        v.ThrowIfInvalid();
        var account = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var period = BillingPeriod.Containing(account.Cycle, periodInstant!.Value);
        if (period.FirstDay < account.FirstPeriod.FirstDay)
            throw new PreconditionFailedException("PERIOD_BEFORE_ACTIVATION", accountId,
                $"Period {period.Key} ends before the service was opened ({ChinaCalendar.DayKey(account.ActivatedAt)}): there is nothing to settle.");
        var now = time.GetUtcNow();
        if (period.End > now)
            throw new PreconditionFailedException("PERIOD_NOT_ENDED", accountId,
                $"Period {period.Key} ends at {period.End:yyyy-MM-dd HH:mm} (Asia/Shanghai); it can be settled after that.");
        var firstUse = await store.RememberSettleKeyAsync(accountId, idempotencyKey, period.Key, SettleKeyRetention);
        // The key stands for a period, not an instant: another instant of the same period is the same request.
        IdempotentRequest.ThrowIfDiffering("idempotency_key", ("period_instant", firstUse, period.Key));

        if (await store.GetBillAsync(accountId, period.Key) is { } existing) return existing;
        await SettleThroughAsync(accountId, period, waitForClaim: true);
        return await store.GetBillAsync(accountId, period.Key)
            ?? throw new TemporarilyUnavailableException($"Settlement of {accountId} is in progress in another replica; retry with the same idempotency key.");
    }

    /// <summary>The scheduler's pass: settles every account whose next period ended a grace time ago.</summary>
    public async Task<int> SettleDueAccountsAsync(DateTimeOffset now, CancellationToken ct)
    {
        var settled = 0;
        while (!ct.IsCancellationRequested)
        {
            var due = await store.DueForSettlementAsync(now, take: 200);
            if (due.Count == 0) break;
            var progressed = 0;
            foreach (var accountId in due)
            {
                if (ct.IsCancellationRequested) break;
                try
                {
                    var (bills, moved) = await SettleDueAsync(accountId, now);
                    settled += bills;
                    if (moved) progressed++;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Scheduled settlement of {Account} failed; it is retried on the next pass", accountId);
                }
            }
            if (progressed == 0) break; // accounts held by other replicas stay due: next pass
        }
        return settled;
    }

    /// <summary>Settles the account's periods that ended a grace time before <paramref name="now"/>; returns the bills issued and whether its index entry moved on.</summary>
    public async Task<(int Bills, bool Moved)> SettleDueAsync(string accountId, DateTimeOffset now)
    {
        var account = await store.GetAccountAsync(accountId);
        if (account is null) return (0, false);
        var target = BillingPeriod.Containing(account.Cycle, now - options.Value.Grace).Previous;
        var bills = 0;
        if (target.FirstDay >= account.NextToSettle.FirstDay)
        {
            var result = await SettleThroughAsync(accountId, target, waitForClaim: false);
            if (result is null) return (0, false);
            bills = result.Value;
            account = await store.GetAccountAsync(accountId) ?? account;
        }
        await store.SetSettlementDueAsync(accountId, account.NextToSettle.End + options.Value.Grace);
        return (bills, true);
    }

    /// <summary>Settles every unsettled period up to <paramref name="target"/>, in order; null when another replica holds the account.</summary>
    private async Task<int?> SettleThroughAsync(string accountId, BillingPeriod target, bool waitForClaim)
    {
        var token = await store.TryClaimAsync(accountId, options.Value.SettlementClaimLease);
        if (token is null && waitForClaim)
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (token is null && waited.Elapsed < ClaimWait)
            {
                await Task.Delay(25);
                if (await store.GetBillAsync(accountId, target.Key) is not null) return 0;
                token = await store.TryClaimAsync(accountId, options.Value.SettlementClaimLease);
            }
        }
        if (token is null) return null;
        try
        {
            var issued = 0;
            var conflicts = 0;
            while (true)
            {
                var account = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
                var next = account.NextToSettle;
                if (next.FirstDay > target.FirstDay) return issued;
                var (draft, versions) = await DraftAsync(account, next);
                var now = time.GetUtcNow();
                var bill = new BillRecord(next.BillId, accountId, next.Key, account.Cycle, account.PriceBook, next.Start, next.End, now, draft.Lines, draft.TotalFen);
                // Registered before the bill, so a crash right after it can't hide the arrears from the scheduler.
                if (draft.BalanceChargeFen > 0) await store.IndexForArrearsAsync(accountId, now + options.Value.SuspendAfter);
                var (status, outstanding, _, _, arrearsSince) = await store.IssueBillAsync(account, draft, versions, bill, now);
                if (status != IssueStatus.Issued)
                {
                    // Another replica (whose claim outlived its lease) settled meanwhile: read the account again.
                    if (++conflicts > 5)
                        throw new TemporarilyUnavailableException($"Settlement of {accountId} keeps racing with another writer; retry.");
                    continue;
                }
                conflicts = 0;
                issued++;
                metrics.BillIssued(outstanding > 0);
                if (arrearsSince is { } since) await store.SetArrearsDueAsync(accountId, since + options.Value.SuspendAfter);
                logger.LogInformation("Issued {BillId} of {Account}: {Lines} lines, total {TotalFen} fen{Arrears}",
                    bill.BillId, accountId, bill.Lines.Count, bill.TotalFen, outstanding > 0 ? $", {outstanding} fen unpaid (arrears)" : "");
            }
        }
        finally
        {
            await store.ReleaseClaimAsync(accountId, token);
        }
    }

    /// <summary>
    /// The calculator's inputs for <paramref name="period"/>: the period's month up to the period's
    /// end, every earlier month whose counters changed since a bill last brought it up to date, and
    /// the prepaid charges and refund credits not on a bill yet.
    /// </summary>
    private async Task<(BillDraft Draft, IReadOnlyDictionary<string, long> Versions)> DraftAsync(AccountState account, BillingPeriod period)
    {
        var id = account.AccountId;
        // Versions first: a record counted after this read bumps the version, so its month is looked at again next time.
        var versions = await store.ReadMonthVersionsAsync(id);
        var periodMonth = period.Month;
        var earlier = versions.Keys.Where(m => string.CompareOrdinal(m, periodMonth) < 0).ToList();
        var billedVersions = await store.ReadBilledVersionsAsync(id, earlier);
        var months = earlier.Where(m => billedVersions.GetValueOrDefault(m, -1) != versions[m]).Append(periodMonth).ToList();

        var inputs = new List<MonthInput>();
        var seen = new Dictionary<string, long>();
        foreach (var month in months)
        {
            var isPeriodMonth = month == periodMonth;
            var days = Months.DaysOf(month).Where(d => !isPeriodMonth || d < period.EndDay).ToList();
            var cells = await store.ReadCellsAsync(id, days);
            var usage = cells.GroupBy(c => c.Label).Select(g => new LabelMonthUsage(
                g.Key,
                g.Sum(c => c.Billable),
                g.Sum(c => c.Postpaid),
                isPeriodMonth ? g.Where(c => c.Day >= period.FirstDay).Sum(c => c.Postpaid) : 0)).ToList();
            inputs.Add(new MonthInput(month, isPeriodMonth, usage, await store.ReadBilledAsync(id, month)));
            seen[month] = versions.GetValueOrDefault(month);
        }
        var (prepaid, refunds) = await store.ReadUnbilledAsync(id, period.End);
        var draft = SettlementCalculator.Compute(new SettlementInput(period, account.PriceBook, inputs, prepaid, refunds), catalog);
        return (draft, seen);
    }
}
