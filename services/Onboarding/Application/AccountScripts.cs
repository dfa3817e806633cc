using System.Text.Json;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Onboarding.Application;

/// <summary>What submit-application.lua did: filed the application, found the key's earlier one, or refused.</summary>
public enum SubmitOutcome { Filed, Duplicate, NoAccount, SubAccount, Pending, Opened }

/// <param name="ApplicationId">The filed or earlier application; for <see cref="SubmitOutcome.Pending"/> the one waiting; else "".</param>
public sealed record SubmitResult(SubmitOutcome Outcome, string ApplicationId);

/// <summary>What a review script (application or merchant id) did with the decision.</summary>
public enum ReviewOutcome
{
    /// <summary>The pending application is decided now.</summary>
    Decided,
    /// <summary>Already decided the same way: nothing changed.</summary>
    Unchanged,
    /// <summary>Already decided the other way: refused.</summary>
    Conflict,
    /// <summary>No such application.</summary>
    Missing,
}

/// <summary>submit-application.lua (R-ONB-1): files an application once per idempotency key, if the account may apply.</summary>
public sealed class SubmitApplicationScript() : ScriptContract<SubmitApplicationScript.Request, SubmitResult>(Loaded)
{
    private static readonly Dictionary<string, SubmitOutcome> Outcomes = new()
    {
        ["ok"] = SubmitOutcome.Filed, ["dup"] = SubmitOutcome.Duplicate, ["no_account"] = SubmitOutcome.NoAccount,
        ["sub_account"] = SubmitOutcome.SubAccount, ["pending"] = SubmitOutcome.Pending, ["opened"] = SubmitOutcome.Opened,
    };

    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(SubmitApplicationScript).Assembly, "submit-application.lua",
        LuaPreamble.Of([.. StoredWords.Lua, .. ReplyWords.Lua(Outcomes)]));

    public static readonly SubmitApplicationScript Instance = new();

    public sealed record Request(ApplicationForm Form, StoredDocument License, string ApplicationId, DateTimeOffset Now);

    public override ScriptCall Bind(Request r)
    {
        var (form, account, now) = (r.Form, r.Form.AccountId, r.Now.ToUnixTimeMilliseconds());
        var history = JsonSerializer.Serialize(new ApplicationHistoryEntry(StoredWords.Pending, now, account, ""));
        return new(
            [AccountStore.AccountKey(account), AccountStore.IdemKey(account, "app", form.IdempotencyKey), AccountStore.AppKey(account, r.ApplicationId), AccountStore.AppsKey(account)],
            [
                r.ApplicationId, now, history,
                "id", r.ApplicationId, "account", account, "scenario", form.BusinessScenario, "contact_email", form.Contact.Email,
                "contact_mobile", form.Contact.Mobile, "contact_name", form.Contact.Name, "license_type", r.License.Kind.ToString(),
                "license_size", r.License.SizeBytes, "license_sha256", r.License.Sha256, "license_name", form.LicenseFileName,
                "status", StoredWords.Pending, "submitted_at", now,
            ]);
    }

    public override SubmitResult Parse(RedisResult reply)
    {
        var r = Array(reply);
        return new SubmitResult(Status(r[0], Outcomes), (string)r[1]!);
    }
}

/// <summary>review-application.lua (R-ONB-1, R-ONB-2): decides a pending application; approval opens the service once.</summary>
public sealed class ReviewApplicationScript() : ScriptContract<ReviewApplicationScript.Request, ReviewApplicationScript.Result>(Loaded)
{
    /// <summary>The answers of both review scripts (applications and merchant ids).</summary>
    internal static readonly Dictionary<string, ReviewOutcome> Outcomes = new()
    {
        ["ok"] = ReviewOutcome.Decided, ["same"] = ReviewOutcome.Unchanged, ["conflict"] = ReviewOutcome.Conflict, ["missing"] = ReviewOutcome.Missing,
    };

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(ReviewApplicationScript).Assembly, "review-application.lua",
        LuaPreamble.Of([.. StoredWords.Lua, .. ReplyWords.Lua(Outcomes)]));

    public static readonly ReviewApplicationScript Instance = new();

    public sealed record Request(ApplicationRecord Application, bool Approve, string Reason, string Reviewer, DateTimeOffset Now, string PriceBook, Settlement Cycle);

    /// <param name="Status">The application's status after the call (null when it is missing).</param>
    /// <param name="Activated">The service opened now (ServiceActivated is in the outbox).</param>
    public sealed record Result(ReviewOutcome Outcome, ApplicationState? Status, bool Activated);

    /// <summary>The event ids: one ServiceActivated per account, one ApplicationReviewed per application.</summary>
    private const string ActivatedEvent = "activated:", ReviewedEvent = "reviewed:";

    public static string ActivatedEventId(string accountId) => ActivatedEvent + accountId;

    public static string ReviewedEventId(string applicationId) => ReviewedEvent + applicationId;

    public override ScriptCall Bind(Request r)
    {
        var (app, at) = (r.Application, Timestamp.FromDateTimeOffset(r.Now));
        var activated = new ServiceActivated
        {
            AccountId = app.AccountId, ApplicationId = app.Id, ActivatedAt = at, PriceBook = r.PriceBook,
            SettlementCycle = r.Cycle == Settlement.Daily ? Contracts.Common.V1.SettlementCycle.Daily : Contracts.Common.V1.SettlementCycle.Monthly,
        };
        var reviewed = new ApplicationReviewed { AccountId = app.AccountId, ApplicationId = app.Id, Approved = r.Approve, Reason = r.Reason, ReviewedAt = at };
        var decision = StoredWords.Of(r.Approve ? ApplicationState.Approved : ApplicationState.Rejected);
        var now = r.Now.ToUnixTimeMilliseconds();
        return new(
            [AccountStore.AccountKey(app.AccountId), AccountStore.AppKey(app.AccountId, app.Id), RedisKeys.Outbox(RedisKeys.AccountTag(app.AccountId))],
            [
                decision, r.Reason, r.Reviewer, now, JsonSerializer.Serialize(new ApplicationHistoryEntry(decision, now, r.Reviewer, r.Reason)),
                r.PriceBook, r.Cycle.ToString().ToLowerInvariant(),
                EventTopics.ServiceActivated, ServiceActivated.Descriptor.FullName, EventJson.Format(activated), ActivatedEventId(app.AccountId),
                EventTopics.ApplicationReviewed, ApplicationReviewed.Descriptor.FullName, EventJson.Format(reviewed), ReviewedEventId(app.Id),
            ]);
    }

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        bool Flag(RedisResult f) => ReplyWords.Flag(f) ?? throw Unexpected($"flag {f}");
        var outcome = Status(r[0], Outcomes);
        return new Result(outcome, outcome == ReviewOutcome.Missing ? null : Status(r[1], StoredWords.ApplicationStates), Flag(r[2]));
    }
}
