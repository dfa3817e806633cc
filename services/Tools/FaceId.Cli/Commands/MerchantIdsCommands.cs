using System.CommandLine;
using FaceId.Contracts.Onboarding.V1;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>merchant-ids list-pending</c> (OnboardingService: the reviewers' queue of E证通 merchant-id requests).</summary>
public static class MerchantIdsCommands
{
    public static Command Build(CommandRunner runner)
    {
        var merchantIds = new Command("merchant-ids", "E证通 merchant-id requests awaiting review (OnboardingService)");
        merchantIds.Add(ListPending(runner));
        return merchantIds;
    }

    private static Command ListPending(CommandRunner runner)
    {
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var command = new Command("list-pending", "The reviewers' queue of merchant-id requests, oldest first, with each one's age in working days (every page)") { pageSize, limit };
        runner.Handle(command, async (ctx, parse) =>
        {
            var requests = await Common.AllPagesAsync(
                page => ctx.Onboarding.ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest { Page = page }, ctx.Call()).ResponseAsync,
                r => r.Requests, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit));
            if (ctx.Json)
            {
                ctx.WriteJson(new ListPendingMerchantIdsResponse { Requests = { requests }, TargetWorkingDays = FaceId.Common.ReviewSla.TargetWorkingDays });
                return ExitCodes.Ok;
            }
            var table = Render.Table("request", "account", "submitted", "age (working days)");
            foreach (var p in requests)
                table.Row(p.Request.ApplicationId, p.Request.AccountId, p.Request.SubmittedAt, Render.ReviewAge(p.AgeWorkingDays, p.Overdue));
            table.Caption = new TableTitle(Markup.Escape($"{requests.Count} pending merchant-id request(s); times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }
}
