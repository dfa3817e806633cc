using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;
using Acct = FaceId.Onboarding.Application.AccountRecordFormat;
using Ent = FaceId.Onboarding.Application.EnterpriseRecordFormat;
using Mid = FaceId.Onboarding.Application.MerchantIdRecordFormat;

namespace FaceId.Onboarding.Application;

/// <summary>
/// Redis keys of enterprise verification (R-ONB-4) and E证通 merchant ids (R-ONB-5), all in the
/// main account's slot (docs/redis-keys.md): each change is one Lua script that also updates the
/// account hash and, for the first verification, writes EnterpriseVerified, for the first issued merchant
/// id MerchantIdIssued (for a rejection, MerchantIdRejected) to the outbox.
/// </summary>
public sealed class EnterpriseStore(IDatabase redis, OutboxRelay outbox, TimeProvider time)
{
    public static string AccountKey(string main) => RedisKeys.ForAccount(main, "onb:account");
    public static string EnterpriseKey(string main) => RedisKeys.ForAccount(main, "onb:enterprise");
    public static string MerchantAppKey(string main, string appId) => RedisKeys.ForAccount(main, "onb:mid:" + appId);
    public static string MerchantAppsKey(string main) => RedisKeys.ForAccount(main, "onb:mids");
    public static string IdemKey(string main, string kind, string key) => RedisKeys.ForAccount(main, $"onb:idem:{kind}:{key}");
    private static string OwnerKey(string id) => "onb:owner:" + id;

    /// <summary>The reviewers' queue of merchant-id applications: "M|application" by submission time (as AccountStore.PendingQueueKey).</summary>
    public const string PendingMerchantIdsKey = "onb:review:merchant-ids";

    /// <summary>Runs submit-enterprise-verification.lua; the first verification's EnterpriseVerified is relayed from the outbox.</summary>
    public async Task<VerificationResult> SubmitVerificationAsync(string idempotencyKey, string accountId, string companyName, string code, string legalRepresentative,
        string fingerprint)
    {
        var tag = RedisKeys.AccountTag(accountId);
        await outbox.RegisterAsync(tag);
        var result = await SubmitEnterpriseVerificationScript.Instance.RunAsync(redis,
            new(idempotencyKey, accountId, companyName, code, legalRepresentative, time.GetUtcNow(), fingerprint));
        if (result.Outcome == VerificationOutcome.Verified) outbox.Notify(tag);
        return result;
    }

    public async Task<EnterpriseVerificationRecord?> GetVerificationAsync(string accountId)
    {
        var h = await redis.HashGetAllAsync(EnterpriseKey(accountId));
        if (h.Length == 0) return null;
        var d = h.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        return new EnterpriseVerificationRecord(accountId, d[Ent.CompanyName], d[Ent.Code], d[Ent.LegalRepresentative],
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(d[Ent.VerifiedAt])));
    }

    /// <summary>Runs apply-merchant-id.lua.</summary>
    public async Task<MerchantApplyResult> ApplyMerchantIdAsync(string idempotencyKey, string accountId)
    {
        var appId = "mida_" + Guid.NewGuid().ToString("N")[..20];
        // Pointer before data: an orphan pointer is harmless (ReviewQueue drops it later), a missing one would hide the application.
        await redis.StringSetAsync(OwnerKey(appId), accountId);
        await redis.SortedSetAddAsync(PendingMerchantIdsKey, ReviewQueue.Member(accountId, appId), time.GetUtcNow().ToUnixTimeMilliseconds());
        var result = await ApplyMerchantIdScript.Instance.RunAsync(redis, new(idempotencyKey, accountId, appId, time.GetUtcNow()));
        if (result.Outcome != MerchantApplyOutcome.Filed)
        {
            await redis.KeyDeleteAsync(OwnerKey(appId));
            await redis.SortedSetRemoveAsync(PendingMerchantIdsKey, ReviewQueue.Member(accountId, appId));
        }
        return result;
    }

    public async Task<MerchantIdRecord?> GetMerchantApplicationAsync(string applicationId)
    {
        var main = await redis.StringGetAsync(OwnerKey(applicationId));
        if (main.IsNull) return null;
        return await ReadMerchantApplicationAsync(main!, applicationId);
    }

    /// <summary>The account's issued merchant-id application, else its latest one, else null.</summary>
    public async Task<MerchantIdRecord?> GetLatestMerchantApplicationAsync(string accountId)
    {
        var appId = await redis.HashGetAsync(AccountKey(accountId), Acct.MerchantApp);
        return appId.IsNull ? null : await ReadMerchantApplicationAsync(accountId, appId!);
    }

    private async Task<MerchantIdRecord?> ReadMerchantApplicationAsync(string accountId, string applicationId)
    {
        var h = await redis.HashGetAllAsync(MerchantAppKey(accountId, applicationId));
        if (h.Length == 0) return null;
        var d = h.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        string F(string k) => d.GetValueOrDefault(k) ?? "";
        return new MerchantIdRecord(applicationId, F(Mid.Account),
            StoredWords.ToMerchantIdState(F(Mid.Status), applicationId),
            F(Mid.MerchantId), F(Mid.ReviewReason), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(F(Mid.SubmittedAt))),
            long.TryParse(F(Mid.ReviewedAt), out var rv) ? DateTimeOffset.FromUnixTimeMilliseconds(rv) : null)
        {
            Reviewer = F(Mid.Reviewer),
            ReviewKey = F(Mid.ReviewKey),
        };
    }

    /// <summary>
    /// The queue's entries <paramref name="skip"/>..+<paramref name="take"/>, oldest first: the ones still
    /// pending (the others are dropped from the queue) and whether the queue goes on after them.
    /// </summary>
    public Task<(IReadOnlyList<MerchantIdRecord> Pending, bool More)> ListPendingMerchantIdsAsync(int skip, int take) =>
        ReviewQueue.ReadAsync(redis, PendingMerchantIdsKey, skip, take, time.GetUtcNow(), ReadMerchantApplicationAsync, app => app.State == MerchantIdState.Pending);

    /// <summary>Runs review-merchant-id.lua: the outcome, the status after it, whether a merchant id was issued now.</summary>
    public async Task<ReviewMerchantIdScript.Result> ReviewMerchantIdAsync(MerchantIdRecord app, string key, bool approve, string reason, string reviewer, DateTimeOffset now)
    {
        var tag = RedisKeys.AccountTag(app.AccountId);
        await outbox.RegisterAsync(tag);
        var candidate = "eidm_" + Guid.NewGuid().ToString("N")[..20];
        var result = await ReviewMerchantIdScript.Instance.RunAsync(redis, new(app, key, approve, reason, reviewer, now, candidate));
        if (result.EventWritten) outbox.Notify(tag);
        if (result.Outcome == ReviewOutcome.Decided) await redis.SortedSetRemoveAsync(PendingMerchantIdsKey, ReviewQueue.Member(app.AccountId, app.ApplicationId));
        return result;
    }
}
