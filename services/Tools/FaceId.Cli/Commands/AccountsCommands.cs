using System.CommandLine;
using FaceId.Contracts.Onboarding.V1;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary>
/// <c>accounts create | show | contacts</c> and <c>subaccounts create | list</c> (OnboardingService):
/// what a fresh platform needs before an application can be submitted.
/// </summary>
public static class AccountsCommands
{
    public static Command Build(CommandRunner runner)
    {
        var accounts = new Command("accounts", "Main accounts: create one, show it, set its contacts (OnboardingService)");
        accounts.Add(Create(runner));
        accounts.Add(Show(runner));
        accounts.Add(UpdateContacts(runner));
        return accounts;
    }

    public static Command BuildSubAccounts(CommandRunner runner)
    {
        var subAccounts = new Command("subaccounts", "Sub-accounts of a main account (OnboardingService)");
        subAccounts.Add(CreateSub(runner));
        subAccounts.Add(ListSubs(runner));
        return subAccounts;
    }

    /// <summary><c>--quiet</c> / <c>-q</c>: print only the new id, for <c>ID=$(faceidctl … -q)</c>.</summary>
    public static Option<bool> Quiet(string what) => new("--quiet", "-q")
    {
        Description = $"Print only the new {what} id (for shell capture: ID=$(faceidctl ... -q))",
    };

    public static Option<string> Email(string description = "Contact email") => new("--email") { Description = description, HelpName = "address" };

    public static Option<string> Phone(string description = "Contact mobile number: 11 digits, mainland China") => new("--phone", "--mobile") { Description = description, HelpName = "number" };

    public static Option<string> ContactName(string description = "Contact person's name") => new("--contact-name") { Description = description, HelpName = "name" };

    private static Command Create(CommandRunner runner)
    {
        var name = new Option<string>("--name") { Description = "Display name of the account, 1..100 characters", Required = true, HelpName = "text" };
        var email = Email();
        var phone = Phone();
        var contactName = ContactName();
        var key = Common.Key("Idempotency key of the creation");
        var quiet = Quiet("account");
        var command = new Command("create", "Create a main account (CreateAccount); prints its id") { name, email, phone, contactName, key, quiet };
        runner.Handle(command, async (ctx, parse) =>
        {
            var account = await ctx.Onboarding.CreateAccountAsync(new CreateAccountRequest
            {
                IdempotencyKey = parse.GetValue(key) is { Length: > 0 } k ? k : Values.NewKey(),
                DisplayName = parse.GetValue(name) ?? "",
                Contacts = new Contacts
                {
                    Email = parse.GetValue(email) ?? "",
                    Mobile = parse.GetValue(phone) ?? "",
                    Name = parse.GetValue(contactName) ?? "",
                },
            }, ctx.Call());
            Write(ctx, account, parse.GetValue(quiet));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(CommandRunner runner)
    {
        var account = Common.Account("Account id (main or sub-account)");
        var command = new Command("show", "Show an account: service state, contacts, settlement (GetAccount)") { account };
        runner.Handle(command, async (ctx, parse) =>
        {
            var found = await ctx.Onboarding.GetAccountAsync(new GetAccountRequest { AccountId = parse.GetValue(account) ?? "" }, ctx.Call());
            Write(ctx, found, quiet: false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command UpdateContacts(CommandRunner runner)
    {
        var account = Common.Account("Main account id");
        var email = Email("Contact email (required)");
        email.Required = true;
        var phone = Phone("Contact mobile number: 11 digits, mainland China (required)");
        phone.Required = true;
        var contactName = ContactName("Contact person's name (required)");
        contactName.Required = true;
        var command = new Command("contacts", "Replace the contacts of a main account (UpdateContacts): email, mobile and name are all required")
        {
            account, email, phone, contactName,
        };
        runner.Handle(command, async (ctx, parse) =>
        {
            var updated = await ctx.Onboarding.UpdateContactsAsync(new UpdateContactsRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                Contacts = new Contacts
                {
                    Email = parse.GetValue(email) ?? "",
                    Mobile = parse.GetValue(phone) ?? "",
                    Name = parse.GetValue(contactName) ?? "",
                },
            }, ctx.Call());
            Write(ctx, updated, quiet: false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateSub(CommandRunner runner)
    {
        var main = Common.Account("The main account that owns the sub-account");
        var name = new Option<string>("--name") { Description = "Display name of the sub-account, 1..100 characters", Required = true, HelpName = "text" };
        var key = Common.Key("Idempotency key of the creation");
        var quiet = Quiet("sub-account");
        var command = new Command("create", "Create a sub-account of a main account (CreateSubAccount); prints its id") { main, name, key, quiet };
        runner.Handle(command, async (ctx, parse) =>
        {
            var account = await ctx.Onboarding.CreateSubAccountAsync(new CreateSubAccountRequest
            {
                IdempotencyKey = parse.GetValue(key) is { Length: > 0 } k ? k : Values.NewKey(),
                MainAccountId = parse.GetValue(main) ?? "",
                DisplayName = parse.GetValue(name) ?? "",
            }, ctx.Call());
            Write(ctx, account, parse.GetValue(quiet));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListSubs(CommandRunner runner)
    {
        var main = Common.Account("The main account");
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var command = new Command("list", "The sub-accounts of a main account (every page)") { main, pageSize, limit };
        runner.Handle(command, async (ctx, parse) =>
        {
            var mainId = parse.GetValue(main) ?? "";
            var accounts = await Common.AllPagesAsync(
                page => ctx.Onboarding.ListSubAccountsAsync(new ListSubAccountsRequest { MainAccountId = mainId, Page = page }, ctx.Call()).ResponseAsync,
                r => r.Accounts, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit));
            if (ctx.Json)
            {
                ctx.WriteJson(new ListSubAccountsResponse { Accounts = { accounts } });
                return ExitCodes.Ok;
            }
            var table = Render.Table("sub-account", "name", "service", "created");
            foreach (var a in accounts) table.Row(a.AccountId, a.DisplayName, a.ServiceState, a.CreatedAt);
            table.Caption = new TableTitle(Markup.Escape($"{accounts.Count} sub-account(s) of {mainId}; times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Only the id (<c>-q</c>), the protobuf JSON (<c>--json</c>) or the field table.</summary>
    private static void Write(CliContext ctx, Account account, bool quiet)
    {
        if (quiet) ctx.Out.WriteLine(account.AccountId);
        else if (ctx.Json) ctx.WriteJson(account);
        else ctx.Console.Write(View(account));
    }

    public static Table View(Account a) => Render.Fields(
    [
        ("account", a.AccountId),
        ("main account", a.MainAccountId),
        ("name", a.DisplayName),
        ("service", a.ServiceState),
        ("activated (UTC+8)", a.ActivatedAt),
        ("contact", Contact(a.Contacts)),
        ("price book", a.PriceBook),
        ("settlement cycle", a.SettlementCycle),
        ("enterprise verified", a.EnterpriseVerified),
        ("created (UTC+8)", a.CreatedAt),
    ]);

    public static string Contact(Contacts? c) =>
        c is null ? "" : string.Join(", ", new[] { c.Name, c.Email, c.Mobile }.Where(s => s.Length > 0));
}
