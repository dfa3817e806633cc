using System.CommandLine;
using FaceId.Contracts.Billing.V1;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>stats</c>, <c>bill show | list</c> and <c>settle</c> (BillingService).</summary>
public static class BillingCommands
{
    public static Command Stats(CommandRunner runner)
    {
        var account = Common.Account();
        var from = Values.InstantOption("--from", "Start of the range, inclusive (default: the first day of this month, Shanghai)");
        var to = Values.InstantOption("--to", "End of the range, exclusive (default: tomorrow 00:00, Shanghai)");
        var granularity = Values.EnumOption<Granularity>("--granularity", "Rows per Shanghai calendar day or month", Granularity.Day);
        var byMode = new Option<bool>("--by-access-mode") { Description = "One row per access mode too" };
        var bySub = new Option<bool>("--by-sub-account") { Description = "One row per sub-account too" };
        var pageSize = Common.PageSize();
        var command = new Command("stats", "Call statistics of an account (Billing GetStatistics; [from, to) at most 400 days)")
        {
            account, from, to, granularity, byMode, bySub, pageSize,
        };
        runner.Handle(command, async (ctx, parse) =>
        {
            var today = DateTimeOffset.UtcNow.ToOffset(Render.Shanghai);
            var midnight = new DateTimeOffset(today.Date, Render.Shanghai);
            var request = new GetStatisticsRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                From = Timestamp.FromDateTimeOffset(parse.GetValue(from) ?? midnight.AddDays(1 - today.Day)),
                To = Timestamp.FromDateTimeOffset(parse.GetValue(to) ?? midnight.AddDays(1)),
                Granularity = parse.GetValue(granularity) ?? Granularity.Day,
                ByAccessMode = parse.GetValue(byMode),
                BySubAccount = parse.GetValue(bySub),
            };
            var rows = await Common.AllPagesAsync(
                page => ctx.Billing.GetStatisticsAsync(new GetStatisticsRequest(request) { Page = page }, ctx.Call()).ResponseAsync,
                r => r.Rows, r => r.NextPageToken, parse.GetValue(pageSize), null);
            if (ctx.Json)
            {
                ctx.WriteJson(new GetStatisticsResponse { Rows = { rows } });
                return ExitCodes.Ok;
            }
            var headers = new List<string> { "period", "label" };
            if (request.ByAccessMode) headers.Add("mode");
            if (request.BySubAccount) headers.Add("sub-account");
            headers.AddRange([">calls", ">billable", ">package", ">postpaid", ">postpaid (CNY)", ">refused", ">suspended", ">not opened", ">not verified"]);
            var table = Render.Table([.. headers]);
            foreach (var r in rows)
            {
                var cells = new List<object?> { r.Period, r.Label };
                if (request.ByAccessMode) cells.Add(r.AccessMode);
                if (request.BySubAccount) cells.Add(r.SubAccountId);
                cells.AddRange([r.Calls, r.BillableCalls, r.PackageCalls, r.PostpaidCalls, Render.Money(r.PostpaidAmountFen),
                    r.RefusedCalls, r.RefusedSuspendedCalls, r.RefusedNotOpenedCalls, r.RefusedNotVerifiedCalls]);
                table.Row([.. cells]);
            }
            var total = new List<object?> { "total", "" };
            if (request.ByAccessMode) total.Add("");
            if (request.BySubAccount) total.Add("");
            total.AddRange([rows.Sum(r => r.Calls), rows.Sum(r => r.BillableCalls), rows.Sum(r => r.PackageCalls), rows.Sum(r => r.PostpaidCalls),
                Render.Money(rows.Sum(r => r.PostpaidAmountFen)), rows.Sum(r => r.RefusedCalls), rows.Sum(r => r.RefusedSuspendedCalls),
                rows.Sum(r => r.RefusedNotOpenedCalls), rows.Sum(r => r.RefusedNotVerifiedCalls)]);
            table.Row([.. total]);
            table.Caption = new TableTitle(Markup.Escape($"{request.AccountId}, [{Render.Time(request.From)}, {Render.Time(request.To)}) UTC+8, by {Render.Enum(request.Granularity).ToLowerInvariant()}"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Bill(CommandRunner runner)
    {
        var bill = new Command("bill", "Bills of an account (BillingService)");

        var account = Common.Account();
        var billId = new Option<string>("--bill-id") { Description = "The bill", Required = true, HelpName = "id" };
        var show = new Command("show", "One bill with its lines") { account, billId };
        runner.Handle(show, async (ctx, parse) =>
        {
            var b = await ctx.Billing.GetBillAsync(new GetBillRequest { AccountId = parse.GetValue(account) ?? "", BillId = parse.GetValue(billId) ?? "" }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(b);
            else Write(ctx.Console, b);
            return ExitCodes.Ok;
        });
        bill.Add(show);

        var listAccount = Common.Account();
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var list = new Command("list", "The account's bills (every page)") { listAccount, pageSize, limit };
        runner.Handle(list, async (ctx, parse) =>
        {
            var bills = await Common.AllPagesAsync(
                page => ctx.Billing.ListBillsAsync(new ListBillsRequest { AccountId = parse.GetValue(listAccount) ?? "", Page = page }, ctx.Call()).ResponseAsync,
                r => r.Bills, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit));
            if (ctx.Json)
            {
                ctx.WriteJson(new ListBillsResponse { Bills = { bills } });
                return ExitCodes.Ok;
            }
            var table = Render.Table("bill", "period", "cycle", "status", ">total (CNY)", ">lines", "issued");
            foreach (var b in bills)
                table.Row(b.BillId, Period(b), b.Cycle, b.Status, Render.Money(b.TotalFen), b.Lines.Count, b.IssuedAt);
            table.Caption = new TableTitle(Markup.Escape($"{bills.Count} bill(s) of {parse.GetValue(listAccount)}; times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        bill.Add(list);
        return bill;
    }

    public static Command Settle(CommandRunner runner)
    {
        var account = Common.Account();
        var at = Values.InstantOption("--at", "Any instant inside the period to settle; the day or month follows the account's cycle (default: now)");
        var key = Common.Key("Idempotency key of the settlement");
        var command = new Command("settle", "Settle one period of an account and print the bill (settling it again returns the same bill)") { account, at, key };
        runner.Handle(command, async (ctx, parse) =>
        {
            var b = await ctx.Billing.SettlePeriodAsync(new SettlePeriodRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                PeriodInstant = Timestamp.FromDateTimeOffset(parse.GetValue(at) ?? DateTimeOffset.UtcNow),
                IdempotencyKey = parse.GetValue(key) is { Length: > 0 } k ? k : Values.NewKey(),
            }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(b);
            else Write(ctx.Console, b);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Period(Bill b) => $"{Render.Time(b.PeriodStart)} – {Render.Time(b.PeriodEnd)}";

    private static void Write(IAnsiConsole console, Bill b)
    {
        console.Write(Render.Fields(
        [
            ("bill", b.BillId),
            ("account", b.AccountId),
            ("period", Period(b)),
            ("cycle", b.Cycle),
            ("price book", b.PriceBook),
            ("status", b.Status),
            ("total (CNY)", Render.Money(b.TotalFen)),
            ("issued (UTC+8)", b.IssuedAt),
        ]));
        var lines = Render.Table("kind", "label", ">calls", ">unit (CNY)", ">amount (CNY)", "reference", "description");
        foreach (var l in b.Lines)
            lines.Row(l.Kind, l.Label, l.Calls, Render.Money(l.UnitPriceFen), Render.Money(l.AmountFen), l.Reference, l.Description);
        lines.Caption = new TableTitle(Markup.Escape($"{b.Lines.Count} line(s)"));
        console.Write(lines);
    }
}
