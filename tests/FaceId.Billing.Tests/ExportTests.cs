using FaceId.Billing.Tests.Support;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>
/// ExportStatistics and ExportBills (docs/api.md, "Exports"): the file says what GetStatistics and
/// GetBill say, row for row and to the fen, in CSV and JSON Lines; bad input is INVALID_ARGUMENT with
/// every field, an account Billing does not know is NOT_FOUND as for GetStatistics.
/// </summary>
public sealed class ExportTests(BillingFixture billing) : IClassFixture<BillingFixture>
{
    private static Timestamp Ts(string local) => Timestamp.FromDateTimeOffset(Hosts.At(local));

    private static readonly ExportFormat[] Formats = [ExportFormat.Csv, ExportFormat.Jsonl];

    [Fact]
    public async Task A_statistics_export_equals_GetStatistics_row_for_row_and_to_the_fen_in_every_breakdown_and_both_formats()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-04-01T09:00"), SettlementCycle.Daily);
        string[] subs = ["", TestIds.New("sub"), TestIds.New("sub")];
        string[] labels = ["basic_authoritative", "bank_card_info_check", "enhanced_self_photo_wechat", "id_info_check"];
        var random = new Random(20301);
        // ~700 calls over eleven days across a month end; enough bank-card checks in April to reach a cheaper tier.
        var records = Enumerable.Range(0, 700).Select(i => Usage.Record(account, labels[random.Next(labels.Length)],
                Hosts.At("2030-04-25T10:00").AddDays(random.Next(11)).AddMinutes(random.Next(600)), "POON"[random.Next(4)],
                random.Next(2) == 0 ? AccessMode.Saas : AccessMode.Paas, subs[random.Next(subs.Length)]))
            .Concat(Usage.Many(1_100, account, "bank_card_info_check", Hosts.At("2030-04-28T11:00")))
            .ToList();
        await billing.ChargeAsync(records);

        var compared = 0;
        foreach (var granularity in new[] { Granularity.Day, Granularity.Month })
        foreach (var byMode in new[] { false, true })
        foreach (var bySub in new[] { false, true })
        {
            // From the middle of a day (the whole day counts, as for GetStatistics) to a day in May.
            var expected = await billing.StatisticsAsync(account, "2030-04-26T12:00", "2030-05-03T00:00", granularity, byMode, bySub);
            Assert.True(expected.Count >= 4, $"{expected.Count} rows");
            Assert.Contains(expected, r => r.PostpaidAmountFen > 0);
            foreach (var format in Formats)
            {
                var file = await Exports.ReadAsync(billing.Client.ExportStatistics(new ExportStatisticsRequest
                {
                    AccountId = account, From = Ts("2030-04-26T12:00"), To = Ts("2030-05-03T00:00"), Granularity = granularity,
                    ByAccessMode = byMode, BySubAccount = bySub, Format = format,
                }));
                Assert.Equal(expected.Select(Exports.Expected), Exports.StatisticsRows(file, format));
                Assert.Equal($"statistics-{account}-2030-04-26_2030-05-02-{(granularity == Granularity.Day ? "day" : "month")}.{(format == ExportFormat.Csv ? "csv" : "jsonl")}",
                    file.Header.FileName);
                compared += expected.Count;
            }
        }
        Assert.True(compared > 100, $"compared {compared} rows");
    }

    [Fact]
    public async Task A_bills_export_equals_GetBill_line_for_line_with_negative_adjustments_and_empty_bills()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-06-01T09:00"), SettlementCycle.Daily);
        // 600 bank-card checks on the 1st (0.40), 500 on the 2nd: the 2nd re-prices the 1st at 0.38 (a negative adjustment);
        // a package bought on the 2nd; nothing on the 3rd (an empty bill).
        await billing.ChargeAsync([.. Usage.Many(600, account, "bank_card_info_check", Hosts.At("2030-06-01T10:00")), .. Usage.Many(3, account, "basic_authoritative", Hosts.At("2030-06-01T11:00"))]);
        await billing.SettleAsync(account, "2030-06-01T12:00");
        await billing.ChargeAsync(Usage.Many(500, account, "bank_card_info_check", Hosts.At("2030-06-02T10:00")));
        await billing.PublishAsync(new PackageDelivered
        {
            AccountId = account, PackageId = TestIds.New("pkg"), Label = "basic_authoritative", Size = 1_000, PriceFen = 80_000,
            PurchasedAt = Ts("2030-06-02T09:00"), PriceBook = "2021-06",
        });
        await billing.SettleAsync(account, "2030-06-03T12:00");

        var bills = new List<Bill>();
        foreach (var id in new[] { "bill-2030-06-01", "bill-2030-06-02", "bill-2030-06-03" })
            bills.Add(await billing.Client.GetBillAsync(new GetBillRequest { AccountId = account, BillId = id }));
        Assert.Contains(bills[1].Lines, l => l.Kind == BillLineKind.Adjustment && l.AmountFen == -1_200);
        Assert.Empty(bills[2].Lines);

        foreach (var format in Formats)
        {
            var all = await Exports.ReadAsync(billing.Client.ExportBills(new ExportBillsRequest
            {
                AccountId = account, From = Ts("2030-06-01T00:00"), To = Ts("2030-07-01T00:00"), Format = format,
            }));
            Assert.Equal(bills.Select(Exports.Expected).Select(Flatten), Exports.Bills(all, format).Select(Flatten));
            Assert.Contains("-12.00", all.Text);
            Assert.Equal($"bills-{account}-2030-06-01_2030-06-30.{(format == ExportFormat.Csv ? "csv" : "jsonl")}", all.Header.FileName);

            // A range that starts inside a period includes that period's bill.
            var one = await Exports.ReadAsync(billing.Client.ExportBills(new ExportBillsRequest
            {
                AccountId = account, From = Ts("2030-06-02T12:00"), To = Ts("2030-06-02T13:00"), Format = format,
            }));
            Assert.Equal([Flatten(Exports.Expected(bills[1]))], Exports.Bills(one, format).Select(Flatten));
        }
    }

    [Fact]
    public async Task More_bills_than_a_page_are_exported_in_order()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-01-01T09:00"), SettlementCycle.Daily);
        await billing.SettleAsync(account, "2030-03-10T12:00"); // 69 daily bills (every period is settled in order)
        var listed = (await billing.Client.ListBillsAsync(new ListBillsRequest { AccountId = account, Page = new PageRequest { PageSize = 500 } })).Bills;
        Assert.Equal(69, listed.Count);
        var file = await Exports.ReadAsync(billing.Client.ExportBills(new ExportBillsRequest
        {
            AccountId = account, From = Ts("2029-12-01T00:00"), To = Ts("2030-12-01T00:00"), Format = ExportFormat.Jsonl,
        }));
        Assert.Equal(listed.Reverse().Select(b => b.BillId), Exports.Bills(file, ExportFormat.Jsonl).Select(b => b.Bill[0]));
    }

    [Fact]
    public async Task Bad_requests_are_INVALID_ARGUMENT_with_every_field_and_an_unknown_account_is_NOT_FOUND_as_for_GetStatistics()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-01-01T09:00"), SettlementCycle.Daily);
        var c = billing.Client;
        Assert.Equal(["account_id", "to", "granularity", "format"], await RpcAssert.InvalidArgumentAsync(() => Exports.ReadAsync(c.ExportStatistics(new ExportStatisticsRequest
        {
            AccountId = "no spaces please", From = Ts("2030-01-02T00:00"), To = Ts("2030-01-01T00:00"),
        }))));
        Assert.Equal(["to"], await RpcAssert.InvalidArgumentAsync(() => Exports.ReadAsync(c.ExportStatistics(new ExportStatisticsRequest
        {
            AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2031-02-06T00:00"), Granularity = Granularity.Day, Format = ExportFormat.Csv,
        })))); // more than 400 days
        Assert.Equal([("format", "unknown value 9")], await RpcAssert.ViolationsAsync(() => Exports.ReadAsync(c.ExportStatistics(new ExportStatisticsRequest
        {
            AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"), Granularity = Granularity.Day, Format = (ExportFormat)9,
        }))));
        Assert.Equal(["granularity"], await RpcAssert.InvalidArgumentAsync(() => Exports.ReadAsync(c.ExportStatistics(new ExportStatisticsRequest
        {
            AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"), Granularity = (Granularity)7, Format = ExportFormat.Csv,
        }))));
        Assert.Equal(["account_id", "from", "to", "format"], await RpcAssert.InvalidArgumentAsync(() => Exports.ReadAsync(c.ExportBills(new ExportBillsRequest()))));
        Assert.Equal(["to"], await RpcAssert.InvalidArgumentAsync(() => Exports.ReadAsync(c.ExportBills(new ExportBillsRequest
        {
            AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2031-02-06T00:00"), Format = ExportFormat.Jsonl,
        }))));

        var nobody = TestIds.New("nobody");
        var statistics = await Assert.ThrowsAsync<RpcException>(() => c.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = nobody, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"), Granularity = Granularity.Day,
        }).ResponseAsync);
        var export = await Assert.ThrowsAsync<RpcException>(() => Exports.ReadAsync(c.ExportStatistics(new ExportStatisticsRequest
        {
            AccountId = nobody, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"), Granularity = Granularity.Day, Format = ExportFormat.Csv,
        })));
        Assert.Equal((StatusCode.NotFound, statistics.Status.Detail), (export.StatusCode, export.Status.Detail));
        await RpcAssert.NotFoundAsync(() => Exports.ReadAsync(c.ExportBills(new ExportBillsRequest
        {
            AccountId = nobody, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"), Format = ExportFormat.Csv,
        })));
    }

    private static string Flatten((string[] Bill, IReadOnlyList<string[]> Lines) b) =>
        string.Join("|", b.Bill) + " :: " + string.Join(" ;; ", b.Lines.Select(l => string.Join("|", l)));
}
