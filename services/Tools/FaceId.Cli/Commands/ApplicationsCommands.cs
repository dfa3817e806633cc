using System.CommandLine;
using FaceId.Contracts.Onboarding.V1;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>applications list-pending | approve | reject</c> (OnboardingService, the reviewers' queue).</summary>
public static class ApplicationsCommands
{
    public static Command Build(CommandRunner runner)
    {
        var applications = new Command("applications", "Service applications awaiting review (OnboardingService)");
        applications.Add(ListPending(runner));
        applications.Add(Review(runner, ReviewDecision.Approve));
        applications.Add(Review(runner, ReviewDecision.Reject));
        return applications;
    }

    private static Command ListPending(CommandRunner runner)
    {
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var command = new Command("list-pending", "The reviewers' queue, oldest first (every page)") { pageSize, limit };
        runner.Handle(command, async (ctx, parse) =>
        {
            var applications = await Common.AllPagesAsync(
                page => ctx.Onboarding.ListPendingApplicationsAsync(new ListPendingApplicationsRequest { Page = page }, ctx.Call()).ResponseAsync,
                r => r.Applications, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit));
            if (ctx.Json)
            {
                ctx.WriteJson(new ListApplicationsResponse { Applications = { applications } });
                return ExitCodes.Ok;
            }
            var table = Render.Table("application", "account", "submitted", "license", "contact", "business scenario");
            foreach (var a in applications)
                table.Row(a.ApplicationId, a.AccountId, a.SubmittedAt, License(a.License), Contact(a.Contact), a.BusinessScenario);
            table.Caption = new TableTitle(Markup.Escape($"{applications.Count} pending application(s); times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Review(CommandRunner runner, ReviewDecision decision)
    {
        var approve = decision == ReviewDecision.Approve;
        var id = new Argument<string>("application-id") { Description = "The application to review" };
        var reviewer = new Option<string>("--reviewer") { Description = "Reviewer id, recorded in the application's history", Required = true, HelpName = "id" };
        var reason = new Option<string>("--reason") { Description = "Why it is rejected, 1..500 characters (sent to the applicant)", Required = !approve, HelpName = "text" };
        var key = Common.Key("Idempotency key of the review");
        var command = approve
            ? new Command("approve", "Approve an application: opens the account's service once (free trial packages follow)") { id, reviewer, key }
            : new Command("reject", "Reject an application with a reason") { id, reviewer, reason, key };
        runner.Handle(command, async (ctx, parse) =>
        {
            var application = await ctx.Onboarding.ReviewApplicationAsync(new ReviewApplicationRequest
            {
                ApplicationId = parse.GetValue(id) ?? "",
                Decision = decision,
                ReviewerId = parse.GetValue(reviewer) ?? "",
                Reason = approve ? "" : parse.GetValue(reason) ?? "",
                IdempotencyKey = parse.GetValue(key) is { Length: > 0 } k ? k : Values.NewKey(),
            }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(application);
            else ctx.Console.Write(View(application));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Table View(Application a) => Render.Fields(
    [
        ("application", a.ApplicationId),
        ("account", a.AccountId),
        ("status", a.Status),
        ("review reason", a.ReviewReason),
        ("submitted (UTC+8)", a.SubmittedAt),
        ("reviewed (UTC+8)", a.ReviewedAt),
        ("license", License(a.License)),
        ("contact", Contact(a.Contact)),
        ("history", string.Join("; ", a.History.Select(h => $"{Render.Enum(h.Status)} {Render.Time(h.At)} {h.Actor} {h.Reason}".Trim()))),
    ]);

    private static string License(LicenseDocument? d) =>
        d is null ? "" : $"{Render.Enum(d.Type)} {d.SizeBytes} B {(d.Sha256.Length > 12 ? d.Sha256[..12] + "…" : d.Sha256)}".Trim();

    private static string Contact(Contacts? c) =>
        c is null ? "" : string.Join(", ", new[] { c.Name, c.Email, c.Mobile }.Where(s => s.Length > 0));
}
