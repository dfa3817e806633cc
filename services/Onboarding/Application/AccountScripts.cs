using System.Text.Json;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;
using F = FaceId.Onboarding.Application.ApplicationRecordFormat;

namespace FaceId.Onboarding.Application;

/// <summary>
/// The field names of an account hash (<c>{acct:M}:onb:account:A</c>, docs/redis-keys.md): one source for
/// <see cref="AccountStore"/>, <see cref="EnterpriseStore"/> and the scripts (<c>F_ACCT_*</c> in their preamble).
/// </summary>
public static class AccountRecordFormat
{
    public const string Id = "id", Main = "main", DisplayName = "display_name", Email = "email", Mobile = "mobile", ContactName = "contact_name",
        State = "state", CreatedAt = "created_at", ActivatedAt = "activated_at", PriceBook = "price_book", Cycle = "cycle",
        PendingApplication = "pending_application", EnterpriseVerified = "enterprise_verified",
        MerchantId = "merchant_id", MerchantApp = "merchant_app", MerchantPending = "merchant_pending", MerchantIssuedAt = "merchant_issued_at";

    /// <summary><c>F_ACCT_*</c>: the fields the scripts read or write.</summary>
    internal static readonly (string Name, object Value)[] Lua =
    [
        ("F_ACCT_MAIN", Main), ("F_ACCT_STATE", State), ("F_ACCT_ACTIVATED_AT", ActivatedAt), ("F_ACCT_PRICE_BOOK", PriceBook),
        ("F_ACCT_CYCLE", Cycle), ("F_ACCT_PENDING_APPLICATION", PendingApplication), ("F_ACCT_ENTERPRISE_VERIFIED", EnterpriseVerified),
        ("F_ACCT_MERCHANT_ID", MerchantId), ("F_ACCT_MERCHANT_APP", MerchantApp), ("F_ACCT_MERCHANT_PENDING", MerchantPending),
        ("F_ACCT_MERCHANT_ISSUED_AT", MerchantIssuedAt),
    ];
}

/// <summary>
/// The field names of an application hash (<c>{acct:M}:onb:app:ID</c>): one source for <see cref="AccountStore"/>,
/// <see cref="SubmitApplicationScript"/> and the scripts (<c>F_APP_*</c> in their preamble).
/// </summary>
public static class ApplicationRecordFormat
{
    public const string Id = "id", Account = "account", Scenario = "scenario", ContactEmail = "contact_email", ContactMobile = "contact_mobile",
        ContactName = "contact_name", LicenseType = "license_type", LicenseSize = "license_size", LicenseSha256 = "license_sha256",
        LicenseName = "license_name", Status = "status", SubmittedAt = "submitted_at", ReviewReason = "review_reason", Reviewer = "reviewer",
        ReviewedAt = "reviewed_at", ReviewKey = "review_key";

    /// <summary><c>F_APP_*</c>: the fields the scripts read or write by name.</summary>
    internal static readonly (string Name, object Value)[] Lua =
    [
        ("F_APP_STATUS", Status), ("F_APP_REVIEW_REASON", ReviewReason), ("F_APP_REVIEWER", Reviewer), ("F_APP_REVIEWED_AT", ReviewedAt),
        ("F_APP_REVIEW_KEY", ReviewKey),
    ];
}

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
        LuaPreamble.Of([.. StoredWords.Lua, .. AccountRecordFormat.Lua, .. ReplyWords.Lua(Outcomes)]));

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
                F.Id, r.ApplicationId, F.Account, account, F.Scenario, form.BusinessScenario, F.ContactEmail, form.Contact.Email,
                F.ContactMobile, form.Contact.Mobile, F.ContactName, form.Contact.Name, F.LicenseType, r.License.Kind.ToString(),
                F.LicenseSize, r.License.SizeBytes, F.LicenseSha256, r.License.Sha256, F.LicenseName, form.LicenseFileName,
                F.Status, StoredWords.Pending, F.SubmittedAt, now,
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
        LuaPreamble.Of([.. StoredWords.Lua, .. AccountRecordFormat.Lua, .. ApplicationRecordFormat.Lua, .. ReplyWords.Lua(Outcomes)]));

    public static readonly ReviewApplicationScript Instance = new();

    /// <param name="Key">The review's idempotency key, kept with the decision so a retry can be told from another request.</param>
    public sealed record Request(ApplicationRecord Application, string Key, bool Approve, string Reason, string Reviewer, DateTimeOffset Now, string PriceBook, Settlement Cycle);

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
                r.Key,
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
