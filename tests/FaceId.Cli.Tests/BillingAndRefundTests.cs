using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>stats, bill list/show, settle (BillingService) and refund request/list (RefundService).</summary>
[Collection(PlatformCollection.Name)]
public sealed class BillingAndRefundTests(PlatformFixture platform)
{
    [Fact]
    public async Task Stats_count_the_recorded_calls_of_today_by_label()
    {
        var accountId = await platform.OpenedAccountAsync();
        foreach (var (id, code) in new[] { ("a", "0"), ("b", "0"), ("c", "0"), ("d", "9999") })
            (await platform.RunAsync("usage", "record", "--account", accountId, "--request-id", $"stats-{id}", "--label", "basic_authoritative", "--code", code)).AssertExit(ExitCodes.Ok);

        var today = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd");
        // Billing counts from the UsageCharged events: eventually.
        var json = await Eventually.GetAsync(
            async () => (await platform.RunAsync("stats", "--account", accountId, "--granularity", "day", "--json")).AssertExit(ExitCodes.Ok).Json<GetStatisticsResponse>(),
            s => s.Rows.Where(r => r.Label == "basic_authoritative").Sum(r => r.Calls) == 4, PlatformFixture.Timeout, "the four calls in the statistics");
        var row = Assert.Single(json.Rows, r => r.Label == "basic_authoritative");
        Assert.Equal(today, row.Period);
        Assert.Equal(3, row.BillableCalls);
        Assert.Equal(3, row.PackageCalls);
        Assert.Equal(0, row.PostpaidCalls);

        var table = (await platform.RunAsync("stats", "--account", accountId, "--from", today, "--to", "now", "--granularity", "month")).AssertExit(ExitCodes.Ok);
        Assert.Contains("basic_authoritative", table.Out);
        Assert.Matches(@"total\s+│\s+│\s+4\s+│\s+3\s+│\s+3\s+│\s+0\s+│\s+0\.00", table.Out);
        Assert.Contains("by month", table.Out);
        // As the README writes it: --from "$(date +%Y-%m)" (this Shanghai month) --to now.
        var thisMonth = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM");
        var monthly = (await platform.RunAsync("stats", "--account", accountId, "--from", thisMonth, "--to", "now", "--granularity", "day")).AssertExit(ExitCodes.Ok);
        Assert.Matches(@"total\s+│\s+│\s+4\s+│\s+3\s+│\s+3\s+│\s+0\s+│\s+0\.00", monthly.Out);

        var bad = await platform.RunAsync("stats", "--account", accountId, "--from", "2026-01-01", "--to", "2025-01-01");
        bad.AssertExit(ExitCodes.InvalidArgument);
        Assert.Contains("INVALID_ARGUMENT", bad.Err);
    }

    [Fact]
    public async Task Export_writes_the_statistics_and_the_bills_as_files_or_to_stdout()
    {
        var accountId = await platform.OpenedAccountAsync();
        foreach (var id in new[] { "a", "b" })
            (await platform.RunAsync("usage", "record", "--account", accountId, "--request-id", $"export-{id}", "--label", "basic_authoritative")).AssertExit(ExitCodes.Ok);
        var thisMonth = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM");
        var directory = Directory.CreateTempSubdirectory("faceidctl-export-").FullName;
        var file = Path.Combine(directory, "stats.csv");

        // Billing counts from the UsageCharged events: eventually the file has the two calls.
        var text = await Eventually.GetAsync(async () =>
        {
            var run = (await platform.RunAsync("export", "statistics", "--account", accountId, "--from", thisMonth, "--to", "now",
                "--granularity", "day", "--format", "csv", "--out", file)).AssertExit(ExitCodes.Ok);
            Assert.Contains(file, run.Err);
            Assert.Equal("", run.Out);
            return await File.ReadAllTextAsync(file);
        }, t => t.Contains("basic_authoritative,,,2,2,2,0,0,0.00,0,0,0,0\r\n"), PlatformFixture.Timeout, "the two calls in the exported file");
        Assert.StartsWith("period,period_start,period_end,label,access_mode,sub_account_id,calls,billable_calls,package_calls,postpaid_calls,postpaid_amount_fen,postpaid_amount_cny,refused_calls,refused_suspended_calls,refused_not_opened_calls,refused_not_verified_calls\r\n", text);
        Assert.False(File.Exists(file + ".partial"));

        var stdout = (await platform.RunAsync("export", "statistics", "--account", accountId, "--from", thisMonth, "--to", "now", "--format", "jsonl")).AssertExit(ExitCodes.Ok);
        var line = Assert.Single(stdout.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"label\":\"basic_authoritative\",\"access_mode\":\"\",\"sub_account_id\":\"\",\"calls\":2,", line);

        var bills = (await platform.RunAsync("export", "bills", "--account", accountId, "--from", thisMonth, "--to", "now", "--out", Path.Combine(directory, "bills.csv"))).AssertExit(ExitCodes.Ok);
        Assert.Contains("bills.csv", bills.Err);
        Assert.StartsWith("bill_id,account_id,period,", await File.ReadAllTextAsync(Path.Combine(directory, "bills.csv")));

        var bad = await platform.RunAsync("export", "bills", "--account", accountId, "--from", "2026-01-01", "--to", "2025-01-01", "--out", Path.Combine(directory, "bad.csv"));
        bad.AssertExit(ExitCodes.InvalidArgument);
        Assert.Contains("INVALID_ARGUMENT", bad.Err);
        Assert.False(File.Exists(Path.Combine(directory, "bad.csv")));
        Assert.False(File.Exists(Path.Combine(directory, "bad.csv.partial")));
        var format = await platform.RunAsync("export", "bills", "--account", accountId, "--format", "xlsx");
        format.AssertExit(ExitCodes.Usage);
    }

    [Fact]
    public async Task Bills_and_settlement_answer_with_their_errors_for_an_account_that_was_just_opened()
    {
        var accountId = await platform.OpenedAccountAsync();

        var list = (await platform.RunAsync("bill", "list", "--account", accountId)).AssertExit(ExitCodes.Ok);
        Assert.Contains("0 bill(s)", list.Out);
        var listJson = (await platform.RunAsync("bill", "list", "--account", accountId, "--json")).AssertExit(ExitCodes.Ok).Json<ListBillsResponse>();
        Assert.Empty(listJson.Bills);

        var missing = await platform.RunAsync("bill", "show", "--account", accountId, "--bill-id", "bill-does-not-exist");
        missing.AssertExit(ExitCodes.NotFound);
        Assert.Contains("NOT_FOUND", missing.Err);

        // The current period has not ended yet: FAILED_PRECONDITION with its reason.
        var settle = await platform.RunAsync("settle", "--account", accountId, "--at", "now");
        settle.AssertExit(ExitCodes.FailedPrecondition);
        Assert.Contains("PERIOD_NOT_ENDED", settle.Err);

        var unknown = await platform.RunAsync("settle", "--account", TestIds.New("nobody"), "--at", "now");
        unknown.AssertExit(ExitCodes.NotFound);
    }

    [Fact]
    public async Task Refund_of_an_unused_purchased_package_is_credited_and_refusals_exit_with_their_reason()
    {
        var accountId = await platform.OpenedAccountAsync();
        var bought = (await platform.RunAsync("packages", "buy", "--account", accountId, "--label", "basic_authoritative", "--size", "1000",
            "--order-id", TestIds.New("order"), "--json")).AssertExit(ExitCodes.Ok).Json<Package>();
        var key = TestIds.New("refund");

        var refund = (await platform.RunAsync("refund", "request", "--account", accountId, "--package", bought.PackageId, "--key", key)).AssertExit(ExitCodes.Ok);
        Assert.Contains(bought.PackageId, refund.Out);
        Assert.Matches(@"state\s+│\s+CREDITED\s", refund.Out);
        var retry = (await platform.RunAsync("refund", "request", "--account", accountId, "--package", bought.PackageId, "--key", key, "--json")).AssertExit(ExitCodes.Ok).Json<Contracts.Refund.V1.Refund>();
        Assert.Equal(RefundState.Credited, retry.State);
        Assert.Equal(bought.PriceFen, retry.AmountFen);

        var trial = (await platform.RunAsync("packages", "list", "--account", accountId, "--label", "basic_self_photo", "--json")).AssertExit(ExitCodes.Ok).Json<ListPackagesResponse>().Packages.Single();
        var free = await platform.RunAsync("refund", "request", "--account", accountId, "--package", trial.PackageId, "--key", TestIds.New("refund"));
        free.AssertExit(ExitCodes.FailedPrecondition);
        Assert.Contains("FAILED_PRECONDITION REFUND_PACKAGE_FREE", free.Err);
        Assert.Single(free.Err.TrimEnd().Split('\n'));

        var unknown = await platform.RunAsync("refund", "request", "--account", accountId, "--package", "pkg-does-not-exist", "--key", TestIds.New("refund"));
        unknown.AssertExit(ExitCodes.NotFound);
        Assert.Contains("NOT_FOUND", unknown.Err);
        Assert.Contains("refund (127.0.0.1:", unknown.Err);

        var list = (await platform.RunAsync("refund", "list", "--account", accountId)).AssertExit(ExitCodes.Ok);
        Assert.Contains("CREDITED", list.Out);
        Assert.Contains("REFUND_PACKAGE_FREE", list.Out);
    }
}
