using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Onboarding.Application;

/// <summary>
/// Redis keys of enterprise verification (R-ONB-4) and E证通 merchant ids (R-ONB-5), all in the
/// main account's slot (docs/redis-keys.md): each change is one Lua script that also updates the
/// account hash and, for the first issued merchant id, writes MerchantIdIssued (for a rejection,
/// MerchantIdRejected) to the outbox.
/// </summary>
public sealed class EnterpriseStore(IDatabase redis, OutboxRelay outbox, TimeProvider time)
{
    private static readonly RedisScript VerifyScript = RedisScript.FromResource(typeof(EnterpriseStore).Assembly, "submit-enterprise-verification.lua");
    private static readonly RedisScript ApplyScript = RedisScript.FromResource(typeof(EnterpriseStore).Assembly, "apply-merchant-id.lua");
    private static readonly OutboxScript ReviewScript = OutboxScript.FromResource(typeof(EnterpriseStore).Assembly, "review-merchant-id.lua");

    private static string AccountKey(string main) => RedisKeys.ForAccount(main, "onb:account");
    private static string EnterpriseKey(string main) => RedisKeys.ForAccount(main, "onb:enterprise");
    private static string MerchantAppKey(string main, string appId) => RedisKeys.ForAccount(main, "onb:mid:" + appId);
    private static string MerchantAppsKey(string main) => RedisKeys.ForAccount(main, "onb:mids");
    private static string IdemKey(string main, string kind, string key) => RedisKeys.ForAccount(main, $"onb:idem:{kind}:{key}");
    private static string OwnerKey(string id) => "onb:owner:" + id;

    /// <summary>The reviewers' queue of merchant-id applications: "M|application" by submission time (as AccountStore.PendingQueueKey).</summary>
    public const string PendingMerchantIdsKey = "onb:review:merchant-ids";

    /// <summary>Runs submit-enterprise-verification.lua; returns its status word.</summary>
    public async Task<string> SubmitVerificationAsync(string idempotencyKey, string accountId, string companyName, string code, string legalRepresentative)
    {
        var r = (RedisResult[])(await VerifyScript.RunAsync(redis,
            [AccountKey(accountId), EnterpriseKey(accountId), IdemKey(accountId, "ent", idempotencyKey)],
            [companyName, code, legalRepresentative, time.GetUtcNow().ToUnixTimeMilliseconds()]))!;
        return (string)r[0]!;
    }

    public async Task<EnterpriseVerificationRecord?> GetVerificationAsync(string accountId)
    {
        var h = await redis.HashGetAllAsync(EnterpriseKey(accountId));
        if (h.Length == 0) return null;
        var d = h.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        return new EnterpriseVerificationRecord(accountId, d["company_name"], d["code"], d["legal_representative"],
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(d["verified_at"])));
    }

    /// <summary>Runs apply-merchant-id.lua; returns its status word and the related application id.</summary>
    public async Task<(string Status, string ApplicationId)> ApplyMerchantIdAsync(string idempotencyKey, string accountId)
    {
        var appId = "mida_" + Guid.NewGuid().ToString("N")[..20];
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // Pointer before data: an orphan pointer is harmless, a missing one would hide the application.
        await redis.StringSetAsync(OwnerKey(appId), accountId);
        await redis.SortedSetAddAsync(PendingMerchantIdsKey, accountId + "|" + appId, now);
        var r = (RedisResult[])(await ApplyScript.RunAsync(redis,
            [AccountKey(accountId), IdemKey(accountId, "mid", idempotencyKey), MerchantAppKey(accountId, appId), MerchantAppsKey(accountId)],
            [appId, now, "id", appId, "account", accountId, "status", "pending", "submitted_at", now]))!;
        var status = (string)r[0]!;
        if (status != "ok") await redis.KeyDeleteAsync(OwnerKey(appId));
        if (status != "ok") await redis.SortedSetRemoveAsync(PendingMerchantIdsKey, accountId + "|" + appId);
        return (status, (string)r[1]!);
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
        var appId = await redis.HashGetAsync(AccountKey(accountId), "merchant_app");
        return appId.IsNull ? null : await ReadMerchantApplicationAsync(accountId, appId!);
    }

    private async Task<MerchantIdRecord?> ReadMerchantApplicationAsync(string accountId, string applicationId)
    {
        var h = await redis.HashGetAllAsync(MerchantAppKey(accountId, applicationId));
        if (h.Length == 0) return null;
        var d = h.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        string F(string k) => d.GetValueOrDefault(k) ?? "";
        return new MerchantIdRecord(applicationId, F("account"),
            F("status") switch
            {
                "issued" => MerchantIdState.Issued,
                "rejected" => MerchantIdState.Rejected,
                "pending" => MerchantIdState.Pending,
                var other => throw new InvalidOperationException($"unknown stored status '{other}' of a merchant-id application of {accountId}"),
            },
            F("merchant_id"), F("review_reason"), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(F("submitted_at"))),
            long.TryParse(F("reviewed_at"), out var rv) ? DateTimeOffset.FromUnixTimeMilliseconds(rv) : null)
        {
            Reviewer = F("reviewer"),
        };
    }

    /// <summary>
    /// The queue's entries <paramref name="skip"/>..+<paramref name="take"/>, oldest first: the ones still
    /// pending (the others are dropped from the queue) and whether the queue goes on after them.
    /// </summary>
    public async Task<(IReadOnlyList<MerchantIdRecord> Pending, bool More)> ListPendingMerchantIdsAsync(int skip, int take)
    {
        var members = await redis.SortedSetRangeByRankAsync(PendingMerchantIdsKey, skip, skip + take - 1);
        var pending = new List<MerchantIdRecord>();
        foreach (var m in members)
        {
            var ids = ((string)m!).Split('|');
            var app = await ReadMerchantApplicationAsync(ids[0], ids[1]);
            if (app is { State: MerchantIdState.Pending }) pending.Add(app);
            else await redis.SortedSetRemoveAsync(PendingMerchantIdsKey, m);
        }
        return (pending, await redis.SortedSetLengthAsync(PendingMerchantIdsKey) > skip + take);
    }

    /// <summary>Runs review-merchant-id.lua; returns its status word and whether a merchant id was issued now.</summary>
    public async Task<(string Status, bool Issued)> ReviewMerchantIdAsync(MerchantIdRecord app, bool approve, string reason, string reviewer, DateTimeOffset now)
    {
        var tag = RedisKeys.AccountTag(app.AccountId);
        await outbox.RegisterAsync(tag);
        var candidate = "eidm_" + Guid.NewGuid().ToString("N")[..20];
        var issued = new MerchantIdIssued { AccountId = app.AccountId, MerchantId = candidate, IssuedAt = Timestamp.FromDateTimeOffset(now) };
        var rejected = new MerchantIdRejected { AccountId = app.AccountId, ApplicationId = app.ApplicationId, Reason = reason, RejectedAt = Timestamp.FromDateTimeOffset(now) };
        var r = (RedisResult[])(await ReviewScript.RunAsync(redis,
            [AccountKey(app.AccountId), MerchantAppKey(app.AccountId, app.ApplicationId), RedisKeys.Outbox(tag)],
            [
                approve ? "issued" : "rejected", reason, reviewer, now.ToUnixTimeMilliseconds(), candidate,
                time.GetUtcNow().ToUnixTimeMilliseconds(),
                EventTopics.MerchantIdIssued, MerchantIdIssued.Descriptor.FullName, EventJson.Format(issued), app.AccountId, app.ApplicationId,
                EventTopics.MerchantIdRejected, MerchantIdRejected.Descriptor.FullName, EventJson.Format(rejected),
            ]))!;
        if ((long)r[3] == 1) outbox.Notify(tag);
        if ((string)r[0]! == "ok") await redis.SortedSetRemoveAsync(PendingMerchantIdsKey, app.AccountId + "|" + app.ApplicationId);
        return ((string)r[0]!, (long)r[2] == 1);
    }
}
