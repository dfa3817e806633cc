using System.CommandLine;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>usage record</c> and <c>usage replay</c> (MeteringService).</summary>
public static class UsageCommands
{
    public static Command Build(CommandRunner runner)
    {
        var usage = new Command("usage", "Record metered calls (MeteringService)");
        usage.Add(Record(runner));
        usage.Add(UsageReplay.Build(runner));
        return usage;
    }

    private static Command Record(CommandRunner runner)
    {
        var account = Common.Account("The calling account: a main account or one of its sub-accounts");
        var requestId = new Option<string>("--request-id")
        {
            Description = "Idempotency key of the call, 1..128 of [A-Za-z0-9._:-]; the same id is charged once",
            Required = true,
            HelpName = "id",
        };
        var label = new Option<string>("--label") { Description = "Billing label (catalog id), e.g. basic_authoritative", HelpName = "label" };
        var channel = new Option<string>("--channel") { Description = "Integration channel (catalog id), e.g. wechat_mini_program; with --library", HelpName = "channel" };
        var library = Values.EnumOption<ComparisonLibrary>("--library", "Comparison library, with --channel");
        var mode = Values.EnumOption<AccessMode>("--mode", "Access mode", AccessMode.Saas);
        var code = new Option<string>("--code") { Description = "Return code of the verification (\"0\", \"2006\", \"-1\", …)", DefaultValueFactory = _ => "0" };
        var at = Values.InstantOption("--at", "When the call happened, at most 7 days ago (default: now; a retry must give the same instant, else IDEMPOTENCY_KEY_REUSED)");

        var command = new Command("record", "Record one call: prints how it was charged (package, postpaid, not billable or refused)")
        {
            account, requestId, label, channel, library, mode, code, at,
        };
        command.Validators.Add(r =>
        {
            var hasLabel = !string.IsNullOrEmpty(r.GetValue(label));
            var hasChannel = !string.IsNullOrEmpty(r.GetValue(channel)) || r.GetResult(library) is not null;
            if (hasLabel && hasChannel) r.AddError("Give either --label, or --channel with --library, not both.");
            else if (!hasLabel && !hasChannel) r.AddError("Give --label, or --channel with --library.");
        });
        runner.Handle(command, async (ctx, parse) =>
        {
            var record = new UsageRecord
            {
                RequestId = parse.GetValue(requestId) ?? "",
                AccountId = parse.GetValue(account) ?? "",
                Label = parse.GetValue(label) ?? "",
                Channel = parse.GetValue(channel) ?? "",
                Library = parse.GetValue(library) ?? ComparisonLibrary.Unspecified,
                AccessMode = parse.GetValue(mode) ?? AccessMode.Saas,
                ReturnCode = parse.GetValue(code) ?? "",
                OccurredAt = Timestamp.FromDateTimeOffset(parse.GetValue(at) ?? DateTimeOffset.UtcNow),
            };
            var response = await ctx.Metering.RecordUsageAsync(new RecordUsageRequest { Record = record }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(response);
            else ctx.Console.Write(Outcome(response.Outcome));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Table Outcome(UsageOutcome o) => Render.Fields(
    [
        ("request id", o.RequestId),
        ("kind", o.Kind),
        ("duplicate", o.Duplicate),
        ("billable", o.Billable),
        ("label", o.Label),
        ("package", o.PackageId),
        ("package remaining", o.PackageId.Length > 0 ? o.PackageRemaining : null),
        ("charged account", o.ChargedAccountId),
        ("refusal", o.Refusal),
        ("differing fields", o.DifferingFields.Count > 0 ? string.Join(", ", o.DifferingFields) : null),
        ("price book", o.PriceBook),
    ]);
}
