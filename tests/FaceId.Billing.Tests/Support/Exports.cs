using System.Globalization;
using System.Text;
using System.Text.Json;
using FaceId.Billing.Domain;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using Grpc.Core;
using ExportFormat = FaceId.Contracts.Billing.V1.ExportFormat;
using Xunit;

namespace FaceId.Billing.Tests.Support;

/// <summary>Reads an export stream and compares it with the unary RPCs, field by field (independently of the export's own code).</summary>
public static class Exports
{
    public sealed record File(ExportHeader Header, string Text, int Chunks);

    public static async Task<File> ReadAsync(AsyncServerStreamingCall<ExportChunk> call)
    {
        using (call)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None), "the export sent nothing");
            Assert.Equal(ExportChunk.PartOneofCase.Header, call.ResponseStream.Current.PartCase);
            var header = call.ResponseStream.Current.Header;
            var bytes = new MemoryStream();
            var chunks = 0;
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                Assert.Equal(ExportChunk.PartOneofCase.Data, call.ResponseStream.Current.PartCase);
                call.ResponseStream.Current.Data.WriteTo(bytes);
                chunks++;
            }
            return new File(header, Encoding.UTF8.GetString(bytes.ToArray()), chunks);
        }
    }

    /// <summary>Independent of the code under test: 12345 → "123.45", -12345 → "-123.45".</summary>
    public static string Cny(long fen) =>
        (fen < 0 ? "-" : "") + (Math.Abs(fen) / 100).ToString(CultureInfo.InvariantCulture) + "." + (Math.Abs(fen) % 100).ToString("00", CultureInfo.InvariantCulture);

    private static string Mode(AccessMode m) => m switch { AccessMode.Saas => "SAAS", AccessMode.Paas => "PAAS", _ => "" };

    /// <summary>A statistics row as the export must write it.</summary>
    public static string[] Expected(StatisticsRow r) =>
    [
        r.Period, r.Label, Mode(r.AccessMode), r.SubAccountId, N(r.Calls), N(r.BillableCalls), N(r.PackageCalls), N(r.PostpaidCalls),
        N(r.PostpaidAmountFen), Cny(r.PostpaidAmountFen), N(r.RefusedCalls), N(r.RefusedSuspendedCalls), N(r.RefusedNotOpenedCalls), N(r.RefusedNotVerifiedCalls),
    ];

    public static readonly string[] StatisticsHeader =
    [
        "period", "period_start", "period_end", "label", "access_mode", "sub_account_id", "calls", "billable_calls", "package_calls",
        "postpaid_calls", "postpaid_amount_fen", "postpaid_amount_cny", "refused_calls", "refused_suspended_calls", "refused_not_opened_calls",
        "refused_not_verified_calls",
    ];

    /// <summary>The export's statistics rows in the shape of <see cref="Expected(StatisticsRow)"/>, from either format; checks the period bounds.</summary>
    public static IReadOnlyList<string[]> StatisticsRows(File file, ExportFormat format)
    {
        var rows = new List<(string Period, string Start, string End, string[] Values)>();
        if (format == ExportFormat.Csv)
        {
            Assert.Equal("text/csv; charset=utf-8", file.Header.ContentType);
            Assert.EndsWith(".csv", file.Header.FileName);
            Assert.DoesNotMatch("(?<!\r)\n", file.Text); // CRLF line ends only
            var csv = Csv.Parse(file.Text);
            Assert.Equal(StatisticsHeader, csv[0]);
            rows.AddRange(csv.Skip(1).Select(c => (c[0], c[1], c[2], new[] { c[0], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15] })));
        }
        else
        {
            Assert.Equal("application/x-ndjson", file.Header.ContentType);
            Assert.EndsWith(".jsonl", file.Header.FileName);
            Assert.True(file.Text.Length == 0 || file.Text.EndsWith('\n'));
            foreach (var line in file.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var doc = JsonDocument.Parse(line);
                var o = doc.RootElement;
                Assert.Equal(StatisticsHeader, o.EnumerateObject().Select(p => p.Name));
                string S(string n) => o.GetProperty(n).GetString()!;
                string L(string n) => o.GetProperty(n).GetInt64().ToString(CultureInfo.InvariantCulture);
                rows.Add((S("period"), S("period_start"), S("period_end"), [S("period"), S("label"), S("access_mode"), S("sub_account_id"),
                    L("calls"), L("billable_calls"), L("package_calls"), L("postpaid_calls"), L("postpaid_amount_fen"), S("postpaid_amount_cny"),
                    L("refused_calls"), L("refused_suspended_calls"), L("refused_not_opened_calls"), L("refused_not_verified_calls")]));
            }
        }
        foreach (var r in rows)
        {
            var first = r.Period.Length == 7 ? r.Period + "-01" : r.Period;
            Assert.Equal(first + "T00:00:00+08:00", r.Start);
            var start = DateTimeOffset.Parse(r.Start, CultureInfo.InvariantCulture);
            Assert.Equal(r.Period.Length == 7 ? start.AddMonths(1) : start.AddDays(1), DateTimeOffset.Parse(r.End, CultureInfo.InvariantCulture));
        }
        return rows.Select(r => r.Values).ToList();
    }

    /// <summary>A bill as the export must write it: the bill's fields, then one entry per line.</summary>
    public static (string[] Bill, IReadOnlyList<string[]> Lines) Expected(Bill b) =>
    (
        [
            b.BillId, b.AccountId, b.Period, Time(b.PeriodStart.ToDateTimeOffset()), Time(b.PeriodEnd.ToDateTimeOffset()),
            b.Cycle == SettlementCycle.Daily ? "DAILY" : "MONTHLY", b.PriceBook, b.Status == BillStatus.Paid ? "PAID" : "IN_ARREARS",
            N(b.TotalFen), Cny(b.TotalFen), N(b.OutstandingFen), Cny(b.OutstandingFen), Time(b.IssuedAt.ToDateTimeOffset()),
        ],
        b.Lines.Select((l, i) => new[]
        {
            N(i + 1), l.Kind.ToString() switch { "Postpaid" => "POSTPAID", "PrepaidPackage" => "PREPAID_PACKAGE", "RefundCredit" => "REFUND_CREDIT", "Adjustment" => "ADJUSTMENT", var k => k },
            l.Label, N(l.Calls), N(l.UnitPriceFen), Cny(l.UnitPriceFen), N(l.AmountFen), Cny(l.AmountFen), l.Reference, l.Description,
        }).ToList()
    );

    /// <summary>The export's bills in the shape of <see cref="Expected(Bill)"/>, from either format.</summary>
    public static IReadOnlyList<(string[] Bill, IReadOnlyList<string[]> Lines)> Bills(File file, ExportFormat format)
    {
        var bills = new List<(string[] Bill, IReadOnlyList<string[]> Lines)>();
        if (format == ExportFormat.Csv)
        {
            var csv = Csv.Parse(file.Text);
            Assert.Equal(23, csv[0].Count);
            Assert.Equal("bill_id", csv[0][0]);
            foreach (var group in csv.Skip(1).GroupBy(r => r[0]))
            {
                var first = group.First();
                var lines = group.Where(r => r[13] != "0").Select(r => r.Skip(13).ToArray()).ToList();
                Assert.All(group, r => Assert.Equal(first.Take(13), r.Take(13)));
                bills.Add((first.Take(13).ToArray(), lines));
            }
            return bills;
        }
        foreach (var line in file.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var o = doc.RootElement;
            string S(JsonElement e, string n) => e.GetProperty(n).GetString()!;
            string L(JsonElement e, string n) => e.GetProperty(n).GetInt64().ToString(CultureInfo.InvariantCulture);
            string[] bill =
            [
                S(o, "bill_id"), S(o, "account_id"), S(o, "period"), S(o, "period_start"), S(o, "period_end"), S(o, "cycle"), S(o, "price_book"),
                S(o, "status"), L(o, "total_fen"), S(o, "total_cny"), L(o, "outstanding_fen"), S(o, "outstanding_cny"), S(o, "issued_at"),
            ];
            var lines = o.GetProperty("lines").EnumerateArray().Select(l => new[]
            {
                L(l, "line"), S(l, "kind"), S(l, "label"), L(l, "calls"), L(l, "unit_price_fen"), S(l, "unit_price_cny"), L(l, "amount_fen"),
                S(l, "amount_cny"), S(l, "reference"), S(l, "description"),
            }).ToList();
            bills.Add((bill, lines));
        }
        return bills;
    }

    private static string Time(DateTimeOffset t) => t.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFzzz", CultureInfo.InvariantCulture);

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
}
