using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Common;
using FaceId.Packages.Catalog;

namespace FaceId.Billing.Application;

/// <summary>
/// A file being exported: its content type, a suggested name, and its text produced line by line
/// as it is read from the store (never the whole file in memory). The request was validated and the
/// account found before this exists, so a caller can answer errors before it sends the first byte.
/// </summary>
public sealed record ExportFile(string ContentType, string FileName, IAsyncEnumerable<string> Lines)
{
    /// <summary>Chunk size of the gRPC stream and the HTTP writes.</summary>
    public const int ChunkBytes = 32 * 1024;

    /// <summary>The file's UTF-8 bytes in chunks of about <see cref="ChunkBytes"/> (a line is never split, unless longer).</summary>
    public async IAsyncEnumerable<byte[]> ChunksAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var buffer = new MemoryStream(ChunkBytes + 4096);
        await foreach (var line in Lines.WithCancellation(ct))
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            buffer.Write(bytes);
            if (buffer.Length < ChunkBytes) continue;
            yield return buffer.ToArray();
            buffer.SetLength(0);
        }
        if (buffer.Length > 0) yield return buffer.ToArray();
    }
}

/// <summary>
/// Statistics and bills as files for a customer's books (docs/api.md, "Exports"; docs/billing.md):
/// CSV (RFC 4180) or JSON Lines; money as integer fen and a CNY string derived from it; instants in
/// RFC 3339 at +08:00. Statistics are read a month at a time with the rules of GetStatistics, so an
/// export equals GetStatistics row for row; bills a page at a time, oldest first.
/// </summary>
public sealed class ExportService(BillingStore store, ProductCatalog catalog)
{
    /// <summary>Bills read from the store per round trip.</summary>
    public const int BillPage = 50;

    public static readonly IReadOnlyList<string> StatisticsColumns =
    [
        "period", "period_start", "period_end", "label", "access_mode", "sub_account_id", "calls", "billable_calls", "package_calls",
        "postpaid_calls", "postpaid_amount_fen", "postpaid_amount_cny", "refused_calls", "refused_suspended_calls", "refused_not_opened_calls",
        "refused_not_verified_calls",
    ];

    public static readonly IReadOnlyList<string> BillColumns =
    [
        "bill_id", "account_id", "period", "period_start", "period_end", "cycle", "price_book", "status", "total_fen", "total_cny",
        "outstanding_fen", "outstanding_cny", "issued_at", "line", "kind", "label", "calls", "unit_price_fen", "unit_price_cny",
        "amount_fen", "amount_cny", "reference", "description",
    ];

    public async Task<ExportFile> StatisticsAsync(string accountId, DateTimeOffset? from, DateTimeOffset? to, StatGranularity? granularity,
        bool byAccessMode, bool bySubAccount, ExportFormat format)
    {
        var v = new InputValidator().Id("account_id", accountId);
        QueryRange.Validate(v, from, to);
        if (granularity is null) v.Add("granularity", "must be specified");
        v.Enum("format", format);
        v.ThrowIfInvalid();
        var account = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var (first, last) = (ChinaCalendar.DateOf(from!.Value), ChinaCalendar.DateOf(to!.Value - TimeSpan.FromTicks(1)));
        var name = $"statistics-{Safe(accountId)}-{Day(first)}_{Day(last)}-{(granularity == StatGranularity.Day ? "day" : "month")}{Extension(format)}";
        return new ExportFile(ContentTypeOf(format), name,
            StatisticsLinesAsync(accountId, account.PriceBook, from.Value, to.Value, granularity!.Value, byAccessMode, bySubAccount, format));
    }

    public async Task<ExportFile> BillsAsync(string accountId, DateTimeOffset? from, DateTimeOffset? to, ExportFormat format)
    {
        var v = new InputValidator().Id("account_id", accountId);
        QueryRange.Validate(v, from, to);
        v.Enum("format", format);
        v.ThrowIfInvalid();
        var account = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var (first, last) = (ChinaCalendar.DateOf(from!.Value), ChinaCalendar.DateOf(to!.Value - TimeSpan.FromTicks(1)));
        var name = $"bills-{Safe(accountId)}-{Day(first)}_{Day(last)}{Extension(format)}";
        // Periods overlapping [from, to): those starting from the one that contains `from`, before `to`.
        var firstStart = BillingPeriod.Containing(account.Cycle, from.Value).Start;
        return new ExportFile(ContentTypeOf(format), name, BillLinesAsync(accountId, firstStart, to.Value, format));
    }

    // ---- statistics ------------------------------------------------------------------------------

    private async IAsyncEnumerable<string> StatisticsLinesAsync(string accountId, string priceBook, DateTimeOffset from, DateTimeOffset to,
        StatGranularity granularity, bool byAccessMode, bool bySubAccount, ExportFormat format)
    {
        if (format == ExportFormat.Csv) yield return Csv.Row(StatisticsColumns);
        var days = QueryRange.Days(from, to);
        var inRange = new HashSet<DateOnly>(days);
        // One month at a time: a row's price needs its whole month (the tier volume), and rows are ordered by period first.
        foreach (var month in days.Select(Months.Of).Distinct())
        {
            var cells = await store.ReadCellsAsync(accountId, Months.DaysOf(month));
            var volumes = StatisticsAggregator.MonthVolumes(cells);
            var rows = StatisticsAggregator.Rows(cells.Where(c => inRange.Contains(c.Day)), granularity, byAccessMode, bySubAccount, volumes, catalog, priceBook);
            foreach (var row in rows) yield return StatisticsLine(row, format);
        }
    }

    public static string StatisticsLine(StatRow r, ExportFormat format)
    {
        var (start, end) = PeriodBounds(r.Period);
        var mode = AccessModeName(r.AccessMode);
        if (format == ExportFormat.Csv)
        {
            return Csv.Row(
            [
                r.Period, InstantText.Format(start), InstantText.Format(end), r.Label, mode, r.SubAccountId, N(r.Calls), N(r.Billable), N(r.Package),
                N(r.Postpaid), N(r.PostpaidAmountFen), Cny.FromFen(r.PostpaidAmountFen), N(r.Refused.Total), N(r.Refused.Suspended),
                N(r.Refused.NotOpened), N(r.Refused.NotVerified),
            ]);
        }
        return JsonLines.Line(w =>
        {
            w.WriteString("period", r.Period);
            w.WriteString("period_start", InstantText.Format(start));
            w.WriteString("period_end", InstantText.Format(end));
            w.WriteString("label", r.Label);
            w.WriteString("access_mode", mode);
            w.WriteString("sub_account_id", r.SubAccountId);
            w.WriteNumber("calls", r.Calls);
            w.WriteNumber("billable_calls", r.Billable);
            w.WriteNumber("package_calls", r.Package);
            w.WriteNumber("postpaid_calls", r.Postpaid);
            w.WriteNumber("postpaid_amount_fen", r.PostpaidAmountFen);
            w.WriteString("postpaid_amount_cny", Cny.FromFen(r.PostpaidAmountFen));
            w.WriteNumber("refused_calls", r.Refused.Total);
            w.WriteNumber("refused_suspended_calls", r.Refused.Suspended);
            w.WriteNumber("refused_not_opened_calls", r.Refused.NotOpened);
            w.WriteNumber("refused_not_verified_calls", r.Refused.NotVerified);
        });
    }

    /// <summary>"SAAS", "PAAS", or "" when the rows are not broken down by access mode.</summary>
    public static string AccessModeName(int mode) => mode switch
    {
        0 => "",
        1 => "SAAS",
        2 => "PAAS",
        _ => mode.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>"2026-12-01" → that Shanghai day; "2026-12" → that month.</summary>
    private static (DateTimeOffset Start, DateTimeOffset End) PeriodBounds(string period)
    {
        if (period.Length == 7)
        {
            var first = DateOnly.ParseExact(period + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture);
            return (ChinaCalendar.StartOf(first), ChinaCalendar.StartOf(first.AddMonths(1)));
        }
        var day = DateOnly.ParseExact(period, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        return (ChinaCalendar.StartOf(day), ChinaCalendar.StartOf(day.AddDays(1)));
    }

    // ---- bills -----------------------------------------------------------------------------------

    private async IAsyncEnumerable<string> BillLinesAsync(string accountId, DateTimeOffset firstStart, DateTimeOffset to, ExportFormat format)
    {
        if (format == ExportFormat.Csv) yield return Csv.Row(BillColumns);
        for (var skip = 0; ; skip += BillPage)
        {
            var periods = await store.ListBillPeriodsAsync(accountId, firstStart, to, skip, BillPage);
            var bills = await Task.WhenAll(periods.Select(p => store.GetBillAsync(accountId, p)));
            foreach (var bill in bills.OfType<IssuedBill>())
                foreach (var line in BillLines(bill, format))
                    yield return line;
            if (periods.Count < BillPage) yield break;
        }
    }

    public static IEnumerable<string> BillLines(IssuedBill issued, ExportFormat format)
    {
        var b = issued.Bill;
        var status = issued.OutstandingFen > 0 ? "IN_ARREARS" : "PAID";
        var cycle = b.Cycle == Settlement.Daily ? "DAILY" : "MONTHLY";
        if (format == ExportFormat.Csv)
        {
            string[] bill =
            [
                b.BillId, b.AccountId, b.Period, InstantText.Format(b.PeriodStart), InstantText.Format(b.PeriodEnd), cycle, b.PriceBook, status,
                N(b.TotalFen), Cny.FromFen(b.TotalFen), N(issued.OutstandingFen), Cny.FromFen(issued.OutstandingFen), InstantText.Format(b.IssuedAt),
            ];
            // A bill without lines is still one row, so every bill of the range is in the file.
            if (b.Lines.Count == 0) yield return Csv.Row([.. bill, "0", "", "", "", "", "", "", "", "", ""]);
            for (var i = 0; i < b.Lines.Count; i++)
            {
                var l = b.Lines[i];
                yield return Csv.Row(
                [
                    .. bill, N(i + 1), KindName(l.Kind), l.Label, N(l.Calls), N(l.UnitPriceFen), Cny.FromFen(l.UnitPriceFen), N(l.AmountFen),
                    Cny.FromFen(l.AmountFen), l.Reference, l.Description,
                ]);
            }
            yield break;
        }
        yield return JsonLines.Line(w =>
        {
            w.WriteString("bill_id", b.BillId);
            w.WriteString("account_id", b.AccountId);
            w.WriteString("period", b.Period);
            w.WriteString("period_start", InstantText.Format(b.PeriodStart));
            w.WriteString("period_end", InstantText.Format(b.PeriodEnd));
            w.WriteString("cycle", cycle);
            w.WriteString("price_book", b.PriceBook);
            w.WriteString("status", status);
            w.WriteNumber("total_fen", b.TotalFen);
            w.WriteString("total_cny", Cny.FromFen(b.TotalFen));
            w.WriteNumber("outstanding_fen", issued.OutstandingFen);
            w.WriteString("outstanding_cny", Cny.FromFen(issued.OutstandingFen));
            w.WriteString("issued_at", InstantText.Format(b.IssuedAt));
            w.WriteStartArray("lines");
            for (var i = 0; i < b.Lines.Count; i++)
            {
                var l = b.Lines[i];
                w.WriteStartObject();
                w.WriteNumber("line", i + 1);
                w.WriteString("kind", KindName(l.Kind));
                w.WriteString("label", l.Label);
                w.WriteNumber("calls", l.Calls);
                w.WriteNumber("unit_price_fen", l.UnitPriceFen);
                w.WriteString("unit_price_cny", Cny.FromFen(l.UnitPriceFen));
                w.WriteNumber("amount_fen", l.AmountFen);
                w.WriteString("amount_cny", Cny.FromFen(l.AmountFen));
                w.WriteString("reference", l.Reference);
                w.WriteString("description", l.Description);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }

    /// <summary>The names of docs/billing.md: POSTPAID, PREPAID_PACKAGE, REFUND_CREDIT, ADJUSTMENT.</summary>
    public static string KindName(LineKind kind) => kind switch
    {
        LineKind.Postpaid => "POSTPAID",
        LineKind.PrepaidPackage => "PREPAID_PACKAGE",
        LineKind.RefundCredit => "REFUND_CREDIT",
        LineKind.Adjustment => "ADJUSTMENT",
        _ => throw new InvalidOperationException($"bill line kind {(int)kind} has no export name"),
    };

    // ---- helpers ---------------------------------------------------------------------------------

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>An account id in a file name: ':' is not allowed in file names everywhere.</summary>
    private static string Safe(string accountId) => accountId.Replace(':', '_');

    private static string Extension(ExportFormat f) => f == ExportFormat.Csv ? ".csv" : ".jsonl";

    private static string ContentTypeOf(ExportFormat f) => f == ExportFormat.Csv ? Csv.ContentType : JsonLines.ContentType;
}
