using System.CommandLine;
using FaceId.Contracts.Onboarding.V1;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary>
/// <c>webhooks create | list | update | disable | enable | delete | rotate-secret | deliveries | redeliver</c>:
/// an account's webhook endpoints and their delivery log (OnboardingService, docs/webhooks.md).
/// </summary>
public static class WebhookCommands
{
    public static Command Build(CommandRunner runner)
    {
        var webhooks = new Command("webhooks", "Signed webhooks to the customer's own systems (OnboardingService)");
        webhooks.Add(Create(runner));
        webhooks.Add(List(runner));
        webhooks.Add(Update(runner));
        webhooks.Add(SetEnabled(runner, enabled: false));
        webhooks.Add(SetEnabled(runner, enabled: true));
        webhooks.Add(Delete(runner));
        webhooks.Add(Rotate(runner));
        webhooks.Add(Deliveries(runner));
        webhooks.Add(Redeliver(runner));
        return webhooks;
    }

    private static Argument<string> EndpointArgument() => new("endpoint-id") { Description = "The endpoint (we_…)" };

    private static Option<string> Events(bool required) => new("--events")
    {
        Description = "Event types, comma separated (docs/webhooks.md), e.g. package.low_balance,billing.bill_issued",
        Required = required,
        HelpName = "types",
    };

    private static string[] Split(string? types) => (types ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Command Create(CommandRunner runner)
    {
        var account = Common.Account("The main account");
        var url = new Option<string>("--url") { Description = "http(s) URL the events are POSTed to", Required = true, HelpName = "url" };
        var events = Events(required: true);
        var description = new Option<string>("--description") { Description = "A note for people (at most 200 characters)", HelpName = "text" };
        var key = Common.Key("Idempotency key of the creation");
        var command = new Command("create", "Register an endpoint; prints its signing secret (whsec_…) this once") { account, url, events, description, key };
        runner.Handle(command, async (ctx, parse) =>
        {
            var r = await ctx.Onboarding.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
            {
                IdempotencyKey = parse.GetValue(key) ?? Values.NewKey(),
                AccountId = parse.GetValue(account) ?? "",
                Url = parse.GetValue(url) ?? "",
                EventTypes = { Split(parse.GetValue(events)) },
                Description = parse.GetValue(description) ?? "",
            }, ctx.Call());
            WriteWithSecret(ctx, r);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var account = Common.Account("The main account");
        var command = new Command("list", "The account's endpoints") { account };
        runner.Handle(command, async (ctx, parse) =>
        {
            var r = await ctx.Onboarding.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = parse.GetValue(account) ?? "" }, ctx.Call());
            if (ctx.Json)
            {
                ctx.WriteJson(r);
                return ExitCodes.Ok;
            }
            var table = Render.Table("endpoint", "url", "events", "enabled", "failures", "created");
            foreach (var e in r.Endpoints)
                table.Row(e.EndpointId, e.Url, string.Join(",", e.EventTypes), e.Enabled ? "yes" : $"no ({e.DisabledReason})", e.ConsecutiveFailures, e.CreatedAt);
            table.Caption = new TableTitle(Markup.Escape($"{r.Endpoints.Count} endpoint(s); times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Update(CommandRunner runner)
    {
        var id = EndpointArgument();
        var account = Common.Account("The main account");
        var url = new Option<string>("--url") { Description = "A new URL", HelpName = "url" };
        var events = Events(required: false);
        var description = new Option<string>("--description") { Description = "A new note", HelpName = "text" };
        var command = new Command("update", "Change an endpoint's URL, event types or note (what is not given stays)") { id, account, url, events, description };
        runner.Handle(command, async (ctx, parse) =>
        {
            var e = await ctx.Onboarding.UpdateWebhookEndpointAsync(new UpdateWebhookEndpointRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                EndpointId = parse.GetValue(id) ?? "",
                Url = parse.GetValue(url) ?? "",
                EventTypes = { Split(parse.GetValue(events)) },
                Description = parse.GetValue(description) ?? "",
            }, ctx.Call());
            Write(ctx, e);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command SetEnabled(CommandRunner runner, bool enabled)
    {
        var id = EndpointArgument();
        var account = Common.Account("The main account");
        var command = new Command(enabled ? "enable" : "disable", enabled
            ? "Enable an endpoint: its failure count restarts and its waiting deliveries are sent now"
            : "Disable an endpoint: no new deliveries, the waiting ones are kept until it is enabled") { id, account };
        runner.Handle(command, async (ctx, parse) =>
        {
            Write(ctx, await ctx.Onboarding.SetWebhookEndpointEnabledAsync(new SetWebhookEndpointEnabledRequest
            {
                AccountId = parse.GetValue(account) ?? "", EndpointId = parse.GetValue(id) ?? "", Enabled = enabled,
            }, ctx.Call()));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var id = EndpointArgument();
        var account = Common.Account("The main account");
        var command = new Command("delete", "Delete an endpoint and its delivery log") { id, account };
        runner.Handle(command, async (ctx, parse) =>
        {
            var r = await ctx.Onboarding.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest
            {
                AccountId = parse.GetValue(account) ?? "", EndpointId = parse.GetValue(id) ?? "",
            }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(r);
            else ctx.Out.WriteLine($"deleted {parse.GetValue(id)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rotate(CommandRunner runner)
    {
        var id = EndpointArgument();
        var account = Common.Account("The main account");
        var grace = new Option<int>("--grace")
        {
            Description = "Seconds the previous secret keeps signing too (0 = the service's default, at most 604800)",
            HelpName = "seconds",
        };
        var command = new Command("rotate-secret", "A new signing secret, printed this once; the previous one stays valid for the grace period") { id, account, grace };
        runner.Handle(command, async (ctx, parse) =>
        {
            WriteWithSecret(ctx, await ctx.Onboarding.RotateWebhookSecretAsync(new RotateWebhookSecretRequest
            {
                AccountId = parse.GetValue(account) ?? "", EndpointId = parse.GetValue(id) ?? "", GraceSeconds = parse.GetValue(grace),
            }, ctx.Call()));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Deliveries(CommandRunner runner)
    {
        var id = EndpointArgument();
        var account = Common.Account("The main account");
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var command = new Command("deliveries", "The endpoint's delivery log, newest first: state, attempts, status codes and latency") { id, account, pageSize, limit };
        runner.Handle(command, async (ctx, parse) =>
        {
            var deliveries = await Common.AllPagesAsync(
                page => ctx.Onboarding.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest
                {
                    AccountId = parse.GetValue(account) ?? "", EndpointId = parse.GetValue(id) ?? "", Page = page,
                }, ctx.Call()).ResponseAsync,
                r => r.Deliveries, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit) ?? 50);
            if (ctx.Json)
            {
                ctx.WriteJson(new ListWebhookDeliveriesResponse { Deliveries = { deliveries } });
                return ExitCodes.Ok;
            }
            var table = Render.Table("webhook-id", "event type", "state", "attempts (status/ms)", "created", "next attempt");
            foreach (var d in deliveries)
                table.Row(d.DeliveryId, d.EventType, d.State, string.Join(" ", d.Attempts.Select(a => $"{(a.StatusCode > 0 ? a.StatusCode : a.Error)}/{a.LatencyMs}")),
                    d.CreatedAt, d.NextAttemptAt);
            table.Caption = new TableTitle(Markup.Escape($"{deliveries.Count} deliveries; times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Redeliver(CommandRunner runner)
    {
        var id = EndpointArgument();
        var delivery = new Argument<string>("delivery-id") { Description = "The delivery (its webhook-id, msg_…)" };
        var account = Common.Account("The main account");
        var command = new Command("redeliver", "Send a delivery again now, with the same webhook-id") { id, delivery, account };
        runner.Handle(command, async (ctx, parse) =>
        {
            var d = await ctx.Onboarding.RedeliverWebhookAsync(new RedeliverWebhookRequest
            {
                AccountId = parse.GetValue(account) ?? "", EndpointId = parse.GetValue(id) ?? "", DeliveryId = parse.GetValue(delivery) ?? "",
            }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(d);
            else ctx.Out.WriteLine($"{d.DeliveryId} ({d.EventType}) queued for an attempt now");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Write(CliContext ctx, WebhookEndpoint e)
    {
        if (ctx.Json) ctx.WriteJson(e);
        else ctx.Console.Write(View(e, null));
    }

    private static void WriteWithSecret(CliContext ctx, WebhookEndpointWithSecret r)
    {
        if (ctx.Json) ctx.WriteJson(r);
        else ctx.Console.Write(View(r.Endpoint, r.Secret));
    }

    private static Table View(WebhookEndpoint e, string? secret) => Render.Fields(
    [
        ("endpoint", e.EndpointId),
        ("account", e.AccountId),
        ("url", e.Url),
        ("events", string.Join(",", e.EventTypes)),
        ("enabled", e.Enabled ? "yes" : $"no ({e.DisabledReason})"),
        ("failures in a row", e.ConsecutiveFailures),
        ("description", e.Description),
        ("created (UTC+8)", e.CreatedAt),
        ("previous secret valid until (UTC+8)", e.PreviousSecretExpiresAt),
        .. secret is null ? Array.Empty<(string, object?)>() : [("secret (shown once)", secret)],
    ]);
}
