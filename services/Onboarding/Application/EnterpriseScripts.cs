using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Onboarding.Application;

/// <summary>What submit-enterprise-verification.lua did.</summary>
public enum VerificationOutcome
{
    /// <summary>First verification: recorded, the account is now enterprise-verified.</summary>
    Verified,
    /// <summary>Same credit code again: company name and legal representative updated.</summary>
    Updated,
    /// <summary>The idempotency key was used before: nothing changed.</summary>
    Duplicate,
    NoAccount,
    SubAccount,
    /// <summary>Verified as another enterprise (another credit code): refused.</summary>
    Conflict,
}

/// <param name="Fingerprint">For <see cref="VerificationOutcome.Duplicate"/>: what the key's first request kept; else "".</param>
public sealed record VerificationResult(VerificationOutcome Outcome, string Fingerprint);

/// <summary>What apply-merchant-id.lua did: filed, found the key's earlier application, or refused.</summary>
public enum MerchantApplyOutcome { Filed, Duplicate, NoAccount, SubAccount, NotVerified, NotOpened, Issued, Pending }

/// <param name="ApplicationId">The filed or earlier application, the issued one, or the one waiting; else "".</param>
public sealed record MerchantApplyResult(MerchantApplyOutcome Outcome, string ApplicationId);

/// <summary>
/// The field names of an enterprise hash (<c>{acct:M}:onb:enterprise:A</c>, docs/redis-keys.md): one source for
/// <see cref="EnterpriseStore"/> and submit-enterprise-verification.lua (<c>F_ENT_*</c> in its preamble).
/// </summary>
public static class EnterpriseRecordFormat
{
    public const string CompanyName = "company_name", Code = "code", LegalRepresentative = "legal_representative",
        VerifiedAt = "verified_at", UpdatedAt = "updated_at";

    internal static readonly (string Name, object Value)[] Lua =
    [
        ("F_ENT_COMPANY_NAME", CompanyName), ("F_ENT_CODE", Code), ("F_ENT_LEGAL_REPRESENTATIVE", LegalRepresentative),
        ("F_ENT_VERIFIED_AT", VerifiedAt), ("F_ENT_UPDATED_AT", UpdatedAt),
    ];
}

/// <summary>
/// The field names of a merchant-id application hash (<c>{acct:M}:onb:mid-app:ID</c>): one source for
/// <see cref="EnterpriseStore"/>, <see cref="ApplyMerchantIdScript"/> and review-merchant-id.lua (<c>F_MID_*</c> in its preamble).
/// </summary>
public static class MerchantIdRecordFormat
{
    public const string Id = "id", Account = "account", Status = "status", SubmittedAt = "submitted_at", MerchantId = "merchant_id",
        ReviewReason = "review_reason", Reviewer = "reviewer", ReviewedAt = "reviewed_at", ReviewKey = "review_key";

    internal static readonly (string Name, object Value)[] Lua =
    [
        ("F_MID_STATUS", Status), ("F_MID_MERCHANT_ID", MerchantId), ("F_MID_REVIEW_REASON", ReviewReason), ("F_MID_REVIEWER", Reviewer),
        ("F_MID_REVIEWED_AT", ReviewedAt), ("F_MID_REVIEW_KEY", ReviewKey),
    ];
}

/// <summary>Lua names of reply words: <c>ST_</c> + the word in capitals.</summary>
internal static class ReplyWords
{
    public static IEnumerable<(string Name, object Value)> Lua<T>(IReadOnlyDictionary<string, T> words) =>
        words.Keys.Select(w => ("ST_" + w.ToUpperInvariant(), (object)w));

    /// <summary>A 1|0 flag of a reply; null for anything else.</summary>
    public static bool? Flag(RedisResult r) => (long)r switch { 1 => true, 0 => false, _ => null };
}

/// <summary>A yes/no argument of a script: the contracts pass <see cref="Of"/>, the scripts compare with <c>ARG_TRUE</c> (<see cref="Lua"/>, in their preamble).</summary>
internal static class ScriptFlag
{
    public const string True = "1", False = "0";

    public static RedisValue Of(bool value) => value ? True : False;

    public static readonly (string Name, object Value) Lua = ("ARG_TRUE", True);
}

/// <summary>
/// submit-enterprise-verification.lua (R-ONB-4): records a verification once per key and flags the account; the first
/// verification publishes EnterpriseVerified (once per account), which the ledger needs before the account may use E证通.
/// </summary>
public sealed class SubmitEnterpriseVerificationScript() : ScriptContract<SubmitEnterpriseVerificationScript.Request, VerificationResult>(Loaded)
{
    private static readonly Dictionary<string, VerificationOutcome> Outcomes = new()
    {
        ["ok"] = VerificationOutcome.Verified, ["updated"] = VerificationOutcome.Updated, ["dup"] = VerificationOutcome.Duplicate,
        ["no_account"] = VerificationOutcome.NoAccount, ["sub_account"] = VerificationOutcome.SubAccount, ["conflict"] = VerificationOutcome.Conflict,
    };

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(SubmitEnterpriseVerificationScript).Assembly, "submit-enterprise-verification.lua",
        LuaPreamble.Of([.. StoredWords.Lua, .. AccountRecordFormat.Lua, .. EnterpriseRecordFormat.Lua, .. ReplyWords.Lua(Outcomes)]));

    public static readonly SubmitEnterpriseVerificationScript Instance = new();

    /// <param name="Fingerprint">The request's meaningful fields (IdempotentRequest.Fingerprint), kept under the key.</param>
    public sealed record Request(string IdempotencyKey, string AccountId, string CompanyName, string CreditCode, string LegalRepresentative, DateTimeOffset Now,
        string Fingerprint);

    public static string VerifiedEventId(string accountId) => "enterprise-verified:" + accountId;

    public override ScriptCall Bind(Request r)
    {
        var verified = new EnterpriseVerified { AccountId = r.AccountId, VerifiedAt = Timestamp.FromDateTimeOffset(r.Now) };
        return new(
            [
                EnterpriseStore.AccountKey(r.AccountId), EnterpriseStore.EnterpriseKey(r.AccountId), EnterpriseStore.IdemKey(r.AccountId, "ent", r.IdempotencyKey),
                RedisKeys.Outbox(RedisKeys.AccountTag(r.AccountId)),
            ],
            [
                r.CompanyName, r.CreditCode, r.LegalRepresentative, r.Now.ToUnixTimeMilliseconds(),
                EventTopics.EnterpriseVerified, EnterpriseVerified.Descriptor.FullName, EventJson.Format(verified), VerifiedEventId(r.AccountId),
                r.Fingerprint,
            ]);
    }

    public override VerificationResult Parse(RedisResult reply)
    {
        var r = Array(reply);
        return new VerificationResult(Status(r[0], Outcomes), (string)r[1]!);
    }
}

/// <summary>apply-merchant-id.lua (R-ONB-5): files a merchant-id application once per key, if the account may apply.</summary>
public sealed class ApplyMerchantIdScript() : ScriptContract<ApplyMerchantIdScript.Request, MerchantApplyResult>(Loaded)
{
    private static readonly Dictionary<string, MerchantApplyOutcome> Outcomes = new()
    {
        ["ok"] = MerchantApplyOutcome.Filed, ["dup"] = MerchantApplyOutcome.Duplicate, ["no_account"] = MerchantApplyOutcome.NoAccount,
        ["sub_account"] = MerchantApplyOutcome.SubAccount, ["not_verified"] = MerchantApplyOutcome.NotVerified,
        ["not_opened"] = MerchantApplyOutcome.NotOpened, ["issued"] = MerchantApplyOutcome.Issued, ["pending"] = MerchantApplyOutcome.Pending,
    };

    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(ApplyMerchantIdScript).Assembly, "apply-merchant-id.lua",
        LuaPreamble.Of([.. StoredWords.Lua, .. AccountRecordFormat.Lua, .. ReplyWords.Lua(Outcomes)]));

    public static readonly ApplyMerchantIdScript Instance = new();

    public sealed record Request(string IdempotencyKey, string AccountId, string ApplicationId, DateTimeOffset Now);

    public override ScriptCall Bind(Request r)
    {
        var now = r.Now.ToUnixTimeMilliseconds();
        return new(
            [
                EnterpriseStore.AccountKey(r.AccountId), EnterpriseStore.IdemKey(r.AccountId, "mid", r.IdempotencyKey),
                EnterpriseStore.MerchantAppKey(r.AccountId, r.ApplicationId), EnterpriseStore.MerchantAppsKey(r.AccountId),
            ],
            [
                r.ApplicationId, now, MerchantIdRecordFormat.Id, r.ApplicationId, MerchantIdRecordFormat.Account, r.AccountId,
                MerchantIdRecordFormat.Status, StoredWords.Of(MerchantIdState.Pending), MerchantIdRecordFormat.SubmittedAt, now,
            ]);
    }

    public override MerchantApplyResult Parse(RedisResult reply)
    {
        var r = Array(reply);
        return new MerchantApplyResult(Status(r[0], Outcomes), (string)r[1]!);
    }
}

/// <summary>review-merchant-id.lua (R-ONB-5): issues or rejects a pending application, publishing MerchantIdIssued (first id) or MerchantIdRejected once.</summary>
public sealed class ReviewMerchantIdScript() : ScriptContract<ReviewMerchantIdScript.Request, ReviewMerchantIdScript.Result>(Loaded)
{
    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(ReviewMerchantIdScript).Assembly, "review-merchant-id.lua",
        LuaPreamble.Of([.. StoredWords.Lua, .. AccountRecordFormat.Lua, .. MerchantIdRecordFormat.Lua, .. ReplyWords.Lua(ReviewApplicationScript.Outcomes)]));

    public static readonly ReviewMerchantIdScript Instance = new();

    /// <param name="CandidateMerchantId">The id issued if the account has none yet.</param>
    /// <param name="Key">The review's idempotency key, kept with the decision so a retry can be told from another request.</param>
    public sealed record Request(MerchantIdRecord Application, string Key, bool Approve, string Reason, string Reviewer, DateTimeOffset Now, string CandidateMerchantId);

    /// <param name="Status">The application's status after the call (null when it is missing).</param>
    /// <param name="IssuedNow">The account's first merchant id was issued now.</param>
    /// <param name="EventWritten">MerchantIdIssued or MerchantIdRejected entered the outbox now.</param>
    public sealed record Result(ReviewOutcome Outcome, MerchantIdState? Status, bool IssuedNow, bool EventWritten);

    public static string IssuedEventId(string accountId) => "merchant-issued:" + accountId;

    public static string RejectedEventId(string applicationId) => "merchant-rejected:" + applicationId;

    public override ScriptCall Bind(Request r)
    {
        var (app, at) = (r.Application, Timestamp.FromDateTimeOffset(r.Now));
        var issued = new MerchantIdIssued { AccountId = app.AccountId, MerchantId = r.CandidateMerchantId, IssuedAt = at };
        var rejected = new MerchantIdRejected { AccountId = app.AccountId, ApplicationId = app.ApplicationId, Reason = r.Reason, RejectedAt = at };
        return new(
            [EnterpriseStore.AccountKey(app.AccountId), EnterpriseStore.MerchantAppKey(app.AccountId, app.ApplicationId), RedisKeys.Outbox(RedisKeys.AccountTag(app.AccountId))],
            [
                StoredWords.Of(r.Approve ? MerchantIdState.Issued : MerchantIdState.Rejected), r.Reason, r.Reviewer, r.Now.ToUnixTimeMilliseconds(),
                r.CandidateMerchantId,
                EventTopics.MerchantIdIssued, MerchantIdIssued.Descriptor.FullName, EventJson.Format(issued), IssuedEventId(app.AccountId), app.ApplicationId,
                EventTopics.MerchantIdRejected, MerchantIdRejected.Descriptor.FullName, EventJson.Format(rejected), RejectedEventId(app.ApplicationId),
                r.Key,
            ]);
    }

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        bool Flag(RedisResult f) => ReplyWords.Flag(f) ?? throw Unexpected($"flag {f}");
        var outcome = Status(r[0], ReviewApplicationScript.Outcomes);
        return new Result(outcome, outcome == ReviewOutcome.Missing ? null : Status(r[1], StoredWords.MerchantIdStates), Flag(r[2]), Flag(r[3]));
    }
}
