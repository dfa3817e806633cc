using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Common;
using FaceId.Packages.Catalog;
using Microsoft.Extensions.Options;

namespace FaceId.Billing.Application;

/// <summary>Shared checks of a [from, to) query range; days are the Shanghai days it overlaps.</summary>
internal static class QueryRange
{
    public const int MaxDays = 400;

    /// <summary>Instants the calendar arithmetic handles: years 2000..2199.</summary>
    public static bool Plausible(DateTimeOffset t) => t.UtcDateTime.Year is >= 2000 and < 2200;

    public static void Instant(InputValidator v, string field, DateTimeOffset? t)
    {
        if (t is null) v.Add(field, "is required");
        else if (!Plausible(t.Value)) v.Add(field, "must be in the years 2000 to 2199");
    }

    public static void Validate(InputValidator v, DateTimeOffset? from, DateTimeOffset? to)
    {
        Instant(v, "from", from);
        Instant(v, "to", to);
        if (from is { } f && to is { } t && Plausible(f) && Plausible(t))
        {
            if (t <= f) v.Add("to", "must be after from");
            else if (t - f > TimeSpan.FromDays(MaxDays)) v.Add("to", $"must be at most {MaxDays} days after from");
        }
    }

    /// <summary>Adds the page's violations to the request's, so a client learns everything wrong at once.</summary>
    public static void Page(InputValidator v, int pageSize, string pageToken)
    {
        try
        {
            Paging.Parse(pageSize, pageToken);
        }
        catch (InvalidInputException e)
        {
            foreach (var f in e.Violations) v.Add(f.Field, f.Description);
        }
    }

    public static IReadOnlyList<DateOnly> Days(DateTimeOffset from, DateTimeOffset to)
    {
        var first = ChinaCalendar.DateOf(from);
        var last = ChinaCalendar.DateOf(to - TimeSpan.FromTicks(1));
        var days = new List<DateOnly>();
        for (var d = first; d <= last; d = d.AddDays(1)) days.Add(d);
        return days;
    }
}

/// <summary>R-BIL-1: statistics by day or month, label, and optionally access mode and sub-account.</summary>
public sealed class StatisticsService(BillingStore store, ProductCatalog catalog)
{
    public async Task<(IReadOnlyList<StatRow> Rows, string NextPageToken)> GetAsync(
        string accountId, DateTimeOffset? from, DateTimeOffset? to, StatGranularity? granularity, bool byAccessMode, bool bySubAccount,
        int pageSize, string pageToken)
    {
        var v = new InputValidator().Id("account_id", accountId);
        QueryRange.Validate(v, from, to);
        if (granularity is null) v.Add("granularity", "must be specified");
        QueryRange.Page(v, pageSize, pageToken);
        v.ThrowIfInvalid();
        var account = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);

        var days = QueryRange.Days(from!.Value, to!.Value);
        // Whole months are read: a row's postpaid amount is priced at the tier of its month's volume.
        var months = days.Select(Months.Of).Distinct().ToList();
        var cells = await store.ReadCellsAsync(accountId, months.SelectMany(Months.DaysOf));
        var volumes = StatisticsAggregator.MonthVolumes(cells);
        var inRange = new HashSet<DateOnly>(days);
        var rows = StatisticsAggregator.Rows(cells.Where(c => inRange.Contains(c.Day)), granularity!.Value, byAccessMode, bySubAccount,
            volumes, catalog, account.PriceBook);
        return Paging.Take(rows, pageSize, pageToken);
    }
}

/// <summary>
/// R-BIL-3: per account, Shanghai day, label, sub-account and kind (package, postpaid, not billable), the
/// ledger's day counters (read only) against Billing's statistics. A differing cell is reported, never
/// papered over: in the API's answer with both values, as a warning log, and, by the periodic check, on
/// the metric faceid.billing.reconciliation.mismatches (one per unbalanced cell).
/// </summary>
public sealed class ReconciliationService(
    BillingStore store,
    BillingMetrics metrics,
    IOptions<BillingOptions> options,
    ILogger<ReconciliationService> logger)
{
    public async Task<IReadOnlyList<ReconciliationLine>> GetAsync(string accountId, DateTimeOffset? from, DateTimeOffset? to)
    {
        var v = new InputValidator().Id("account_id", accountId);
        QueryRange.Validate(v, from, to);
        v.ThrowIfInvalid();
        _ = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var lines = await CompareAsync(accountId, QueryRange.Days(from!.Value, to!.Value));
        foreach (var cell in lines.SelectMany(l => l.UnbalancedCells)) LogMismatch(accountId, cell);
        return lines;
    }

    /// <summary>The periodic check: the last complete days (ended a grace time ago) of every account.</summary>
    public async Task<int> CheckRecentAsync(DateTimeOffset now, Func<string, Task>? perAccount, CancellationToken ct)
    {
        var lastDay = ChinaCalendar.DateOf(now - options.Value.Grace).AddDays(-1);
        var days = Enumerable.Range(0, options.Value.ReconciliationDays).Select(i => lastDay.AddDays(-i)).ToList();
        var mismatches = 0;
        await foreach (var accountId in store.AllAccountsAsync().WithCancellation(ct))
        {
            try
            {
                foreach (var cell in (await CompareAsync(accountId, days)).SelectMany(l => l.UnbalancedCells))
                {
                    mismatches++;
                    metrics.Mismatch(cell.Label, cell.Kind);
                    LogMismatch(accountId, cell);
                }
                if (perAccount is not null) await perAccount(accountId);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Reconciliation of {Account} failed; retried on the next pass", accountId);
            }
        }
        return mismatches;
    }

    private async Task<IReadOnlyList<ReconciliationLine>> CompareAsync(string accountId, IReadOnlyList<DateOnly> days)
    {
        var ledger = await store.ReadLedgerDaysAsync(accountId, days);
        var cells = await store.ReadCellsAsync(accountId, days);
        return Reconciler.Compare(ledger, cells);
    }

    private void LogMismatch(string accountId, UnbalancedCell c) =>
        logger.LogWarning(
            "Reconciliation mismatch (R-BIL-3) for {Account}, {Day}, {Label}, sub-account '{SubAccount}', {Kind}: ledger {Metered} != billing {Billed}",
            accountId, c.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), c.Label, c.SubAccountId, c.Kind, c.Metered, c.Billed);
}
