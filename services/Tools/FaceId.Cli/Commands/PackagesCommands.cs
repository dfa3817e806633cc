using System.CommandLine;
using FaceId.Contracts.Packages.V1;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>packages list | balances | buy</c> (PackagesService).</summary>
public static class PackagesCommands
{
    public static Command Build(CommandRunner runner)
    {
        var packages = new Command("packages", "Resource packages of an account (PackagesService)");
        packages.Add(List(runner));
        packages.Add(Balances(runner));
        packages.Add(Buy(runner));
        return packages;
    }

    private static Command List(CommandRunner runner)
    {
        var account = Common.Account();
        var label = new Option<string>("--label") { Description = "Only packages of this label", HelpName = "label" };
        var status = Values.EnumOption<PackageStatus>("--status", "Only packages in this status");
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var command = new Command("list", "List an account's packages (every page)") { account, label, status, pageSize, limit };
        runner.Handle(command, async (ctx, parse) =>
        {
            var packages = await Common.AllPagesAsync(
                page => ctx.Packages.ListPackagesAsync(new ListPackagesRequest
                {
                    AccountId = parse.GetValue(account) ?? "",
                    Label = parse.GetValue(label) ?? "",
                    Status = parse.GetValue(status) ?? PackageStatus.Unspecified,
                    Page = page,
                }, ctx.Call()).ResponseAsync,
                r => r.Packages, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit));
            if (ctx.Json)
            {
                ctx.WriteJson(new ListPackagesResponse { Packages = { packages } });
                return ExitCodes.Ok;
            }
            var table = Render.Table("package", "label", "status", ">remaining", ">size", ">used", ">price (CNY)", "free", "purchased", "expires");
            foreach (var p in packages)
                table.Row(p.PackageId, p.Label, p.Status, p.Remaining, p.Size, p.Used, Render.Money(p.PriceFen), p.Free, p.PurchasedAt, p.ExpiresAt);
            table.Caption = new TableTitle(Markup.Escape($"{packages.Count} package(s) of {parse.GetValue(account)}; times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Balances(CommandRunner runner)
    {
        var account = Common.Account();
        var command = new Command("balances", "Remaining calls per label over the packages usable now") { account };
        runner.Handle(command, async (ctx, parse) =>
        {
            var response = await ctx.Packages.GetBalancesAsync(new GetBalancesRequest { AccountId = parse.GetValue(account) ?? "" }, ctx.Call());
            if (ctx.Json)
            {
                ctx.WriteJson(response);
                return ExitCodes.Ok;
            }
            var table = Render.Table("label", ">remaining", ">active packages");
            foreach (var b in response.Balances) table.Row(b.Label, b.Remaining, b.ActivePackages);
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Buy(CommandRunner runner)
    {
        var account = Common.Account();
        var label = new Option<string>("--label") { Description = "Billing label (catalog id)", Required = true, HelpName = "label" };
        var size = new Option<long>("--size") { Description = "Package size (calls), one of the label's offers", Required = true, HelpName = "calls" };
        var orderId = new Option<string>("--order-id")
        {
            Description = "Idempotency key of the order, 1..128 of [A-Za-z0-9._:-]: a retry with it returns the same package",
            Required = true,
            HelpName = "id",
        };
        var quiet = AccountsCommands.Quiet("package");
        var command = new Command("buy", "Purchase a package") { account, label, size, orderId, quiet };
        runner.Handle(command, async (ctx, parse) =>
        {
            var package = await ctx.Packages.PurchasePackageAsync(new PurchasePackageRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                Label = parse.GetValue(label) ?? "",
                Size = parse.GetValue(size),
                OrderId = parse.GetValue(orderId) ?? "",
            }, ctx.Call());
            if (parse.GetValue(quiet)) ctx.Out.WriteLine(package.PackageId);
            else if (ctx.Json) ctx.WriteJson(package);
            else ctx.Console.Write(View(package));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Table View(Package p) => Render.Fields(
    [
        ("package", p.PackageId),
        ("account", p.AccountId),
        ("label", p.Label),
        ("status", p.Status),
        ("size", p.Size),
        ("used", p.Used),
        ("remaining", p.Remaining),
        ("price (CNY)", Render.Money(p.PriceFen)),
        ("free", p.Free),
        ("order", p.OrderId),
        ("price book", p.PriceBook),
        ("purchased (UTC+8)", p.PurchasedAt),
        ("valid from (UTC+8)", p.ValidFrom),
        ("expires (UTC+8)", p.ExpiresAt),
    ]);
}
