using System.CommandLine;
using FaceId.Contracts.Refund.V1;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>refund request | list</c> (RefundService).</summary>
public static class RefundCommands
{
    public static Command Build(CommandRunner runner)
    {
        var refund = new Command("refund", "7-day refunds of unused purchased packages (RefundService)");

        var account = Common.Account("The main account that owns the package");
        var package = new Option<string>("--package") { Description = "The package to refund", Required = true, HelpName = "id" };
        var key = new Option<string>("--key", "--idempotency-key")
        {
            Description = "Idempotency key of the request: a retry with it returns the same refund (or the same refusal)",
            Required = true,
            HelpName = "key",
        };
        var request = new Command("request", "Request the refund of a package; refusals exit with 5 and their reason") { account, package, key };
        runner.Handle(request, async (ctx, parse) =>
        {
            var r = await ctx.Refund.RequestRefundAsync(new RequestRefundRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                PackageId = parse.GetValue(package) ?? "",
                IdempotencyKey = parse.GetValue(key) ?? "",
            }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(r);
            else ctx.Console.Write(View(r));
            return ExitCodes.Ok;
        });
        refund.Add(request);

        var listAccount = Common.Account();
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var list = new Command("list", "The account's refunds, accepted and refused (every page)") { listAccount, pageSize, limit };
        runner.Handle(list, async (ctx, parse) =>
        {
            var refunds = await Common.AllPagesAsync(
                page => ctx.Refund.ListRefundsAsync(new ListRefundsRequest { AccountId = parse.GetValue(listAccount) ?? "", Page = page }, ctx.Call()).ResponseAsync,
                r => r.Refunds, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit));
            if (ctx.Json)
            {
                ctx.WriteJson(new ListRefundsResponse { Refunds = { refunds } });
                return ExitCodes.Ok;
            }
            var table = Render.Table("refund", "package", "state", ">amount (CNY)", "requested", "rejection reason");
            foreach (var r in refunds) table.Row(r.RefundId, r.PackageId, r.State, Render.Money(r.AmountFen), r.RequestedAt, r.RejectionReason);
            table.Caption = new TableTitle(Markup.Escape($"{refunds.Count} refund(s) of {parse.GetValue(listAccount)}; times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        refund.Add(list);
        return refund;
    }

    public static Table View(Refund r) => Render.Fields(
    [
        ("refund", r.RefundId),
        ("account", r.AccountId),
        ("package", r.PackageId),
        ("state", r.State),
        ("amount (CNY)", Render.Money(r.AmountFen)),
        ("rejection reason", r.RejectionReason),
        ("requested (UTC+8)", r.RequestedAt),
        ("history", string.Join("; ", r.History.Select(h => $"{Render.Enum(h.State)} {Render.Time(h.At)} {h.Note}".Trim()))),
    ]);
}
