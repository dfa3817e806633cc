using System.Text.Json;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;
using Acct = FaceId.Onboarding.Application.AccountRecordFormat;
using App = FaceId.Onboarding.Application.ApplicationRecordFormat;

namespace FaceId.Onboarding.Application;

/// <summary>
/// Onboarding's keys (docs/redis-keys.md): <c>{acct:M}:onb:*</c> in the main account's slot, so
/// an account, its sub-accounts and applications change together in one script or transaction,
/// with their events in the same slot's outbox; plus global pointers from a sub-account or an
/// application id to its main account, written before the data they point to.
/// </summary>
public sealed class AccountStore(IDatabase redis, OutboxRelay outbox, TimeProvider time)
{
    public const string PendingQueueKey = "onb:review:pending";
    public static string AccountKey(string main, string? sub = null) => RedisKeys.ForAccount(main, sub is null ? "onb:account" : "onb:sub:" + sub);
    private static string SubsKey(string main) => RedisKeys.ForAccount(main, "onb:subs");
    public static string AppKey(string main, string appId) => RedisKeys.ForAccount(main, "onb:app:" + appId);
    private static string ReadsKey(string main, string appId) => AppKey(main, appId) + ":reads";
    public static string AppsKey(string main) => RedisKeys.ForAccount(main, "onb:apps");
    public static string IdemKey(string main, string kind, string key) => RedisKeys.ForAccount(main, $"onb:idem:{kind}:{key}");
    private static string OwnerKey(string id) => "onb:owner:" + id;

    /// <summary>
    /// Creates a main account once per idempotency key; returns its id. The key keeps the account id and the
    /// fingerprint of the request (<c>id|fingerprint</c>): contacts change later, so the account cannot tell what was asked.
    /// </summary>
    public async Task<string> CreateMainAccountAsync(string idempotencyKey, string displayName, ContactInfo contacts)
    {
        var idemKey = "onb:idem:account:" + idempotencyKey;
        var candidate = "acc_" + Guid.NewGuid().ToString("N")[..16];
        var fingerprint = IdempotentRequest.Fingerprint(("display_name", displayName),
            ("contacts.email", contacts.Email), ("contacts.mobile", contacts.Mobile), ("contacts.name", contacts.Name));
        // Claim the key first (SET NX decides which request owns it); a crash after this leaves a claim that the retry completes below.
        await redis.StringSetAsync(idemKey, IdempotentRequest.Keep(candidate, fingerprint), when: When.NotExists);
        var (id, kept) = IdempotentRequest.Kept((string)(await redis.StringGetAsync(idemKey))!);
        IdempotentRequest.ThrowIfReused("idempotency_key", kept, fingerprint);
        await outbox.RegisterAsync(RedisKeys.AccountTag(id));
        var now = time.GetUtcNow();
        var tran = redis.CreateTransaction();
        tran.AddCondition(Condition.KeyNotExists(AccountKey(id)));
        _ = tran.HashSetAsync(AccountKey(id),
        [
            new(Acct.Id, id), new(Acct.Main, ""), new(Acct.DisplayName, displayName), new(Acct.Email, contacts.Email), new(Acct.Mobile, contacts.Mobile),
            new(Acct.ContactName, contacts.Name), new(Acct.State, StoredWords.NotApplied), new(Acct.CreatedAt, now.ToUnixTimeMilliseconds()),
        ]);
        _ = OutboxEntry.For(new AccountCreated { AccountId = id, CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now) }, time, "account-created:" + id)
            .AppendTo(tran, RedisKeys.AccountTag(id));
        if (await tran.ExecuteAsync()) outbox.Notify(RedisKeys.AccountTag(id));
        return id;
    }

    /// <summary>
    /// Creates a sub-account of <paramref name="mainId"/> once per idempotency key (R-ACC-1). A retry must name the
    /// same display name (kept by the sub-account, which nothing renames); the main account is part of the key.
    /// </summary>
    public async Task<string> CreateSubAccountAsync(string idempotencyKey, string mainId, string displayName)
    {
        var idemKey = IdemKey(mainId, "sub", idempotencyKey);
        var existing = await redis.StringGetAsync(idemKey);
        if (!existing.IsNull) return await ReplaySubAccountAsync(mainId, existing!, displayName);
        var id = "acc_" + Guid.NewGuid().ToString("N")[..16];
        await redis.StringSetAsync(OwnerKey(id), mainId);
        await outbox.RegisterAsync(RedisKeys.AccountTag(mainId));
        var now = time.GetUtcNow();
        var tran = redis.CreateTransaction();
        tran.AddCondition(Condition.KeyNotExists(idemKey));
        tran.AddCondition(Condition.HashEqual(AccountKey(mainId), Acct.Main, ""));
        _ = tran.StringSetAsync(idemKey, id);
        _ = tran.HashSetAsync(AccountKey(mainId, id),
            [new(Acct.Id, id), new(Acct.Main, mainId), new(Acct.DisplayName, displayName), new(Acct.CreatedAt, now.ToUnixTimeMilliseconds())]);
        _ = tran.SortedSetAddAsync(SubsKey(mainId), id, now.ToUnixTimeMilliseconds());
        _ = OutboxEntry.For(new AccountCreated { AccountId = id, MainAccountId = mainId, CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now) }, time, "account-created:" + id)
            .AppendTo(tran, RedisKeys.AccountTag(mainId));
        if (await tran.ExecuteAsync())
        {
            outbox.Notify(RedisKeys.AccountTag(mainId));
            return id;
        }
        existing = await redis.StringGetAsync(idemKey);
        if (!existing.IsNull) return await ReplaySubAccountAsync(mainId, existing!, displayName); // a concurrent request won
        throw new PreconditionFailedException("NOT_A_MAIN_ACCOUNT", mainId, "Sub-accounts can only be created under a main account (R-ACC-1).");
    }

    /// <summary>The sub-account the key already made, if the retry asks for the same one; written in one transaction with the key.</summary>
    private async Task<string> ReplaySubAccountAsync(string mainId, string subId, string displayName)
    {
        var made = (string?)await redis.HashGetAsync(AccountKey(mainId, subId), Acct.DisplayName);
        IdempotentRequest.ThrowIfDiffering("idempotency_key", ("display_name", made, displayName));
        return subId;
    }

    public async Task<AccountRecord?> GetAccountAsync(string accountId)
    {
        var main = await redis.StringGetAsync(OwnerKey(accountId));
        var h = await redis.HashGetAllAsync(main.IsNull ? AccountKey(accountId) : AccountKey(main!, accountId));
        if (h.Length == 0) return null;
        var d = h.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        string F(string k) => d.GetValueOrDefault(k) ?? "";
        return new AccountRecord(accountId, F(Acct.Main) is { Length: > 0 } m ? m : null, F(Acct.DisplayName),
            new ContactInfo(F(Acct.Email), F(Acct.Mobile), F(Acct.ContactName)),
            StoredWords.ToServiceState(F(Acct.State), accountId),
            long.TryParse(F(Acct.ActivatedAt), out var a) ? DateTimeOffset.FromUnixTimeMilliseconds(a) : null,
            F(Acct.PriceBook), F(Acct.Cycle), F(Acct.EnterpriseVerified) == StoredWords.FlagOn,
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(F(Acct.CreatedAt))));
    }

    public async Task<IReadOnlyList<string>> ListSubAccountIdsAsync(string mainId) =>
        (await redis.SortedSetRangeByRankAsync(SubsKey(mainId))).Select(v => (string)v!).ToList();

    public Task UpdateContactsAsync(string mainId, ContactInfo contacts) =>
        redis.HashSetAsync(AccountKey(mainId), [new(Acct.Email, contacts.Email), new(Acct.Mobile, contacts.Mobile), new(Acct.ContactName, contacts.Name)]);

    /// <summary>Files an application (submit-application.lua).</summary>
    public async Task<SubmitResult> SubmitApplicationAsync(ApplicationForm form, StoredDocument license)
    {
        var appId = "app_" + Guid.NewGuid().ToString("N")[..20];
        var now = time.GetUtcNow();
        // Pointers before data: an orphan pointer is harmless (ReviewQueue drops it later), a missing one would hide the application.
        await redis.StringSetAsync(OwnerKey(appId), form.AccountId);
        await redis.SortedSetAddAsync(PendingQueueKey, ReviewQueue.Member(form.AccountId, appId), now.ToUnixTimeMilliseconds());
        var result = await SubmitApplicationScript.Instance.RunAsync(redis, new(form, license, appId, now));
        if (result.Outcome != SubmitOutcome.Filed) await redis.SortedSetRemoveAsync(PendingQueueKey, ReviewQueue.Member(form.AccountId, appId));
        return result;
    }

    public async Task<ApplicationRecord?> GetApplicationAsync(string applicationId)
    {
        var main = await redis.StringGetAsync(OwnerKey(applicationId));
        if (main.IsNull) return null;
        var h = await redis.HashGetAllAsync(AppKey(main!, applicationId));
        if (h.Length == 0) return null;
        var history = await redis.ListRangeAsync(AppKey(main!, applicationId) + ":history");
        var reads = await redis.ListRangeAsync(ReadsKey(main!, applicationId));
        var d = h.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        string F(string k) => d.GetValueOrDefault(k) ?? "";
        return new ApplicationRecord(applicationId, F(App.Account), F(App.Scenario), new ContactInfo(F(App.ContactEmail), F(App.ContactMobile), F(App.ContactName)),
            new StoredDocument(Enum.Parse<DocumentKind>(F(App.LicenseType)), long.Parse(F(App.LicenseSize)), F(App.LicenseSha256)), F(App.LicenseName),
            StoredWords.ToApplicationState(F(App.Status), applicationId),
            F(App.ReviewReason), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(F(App.SubmittedAt))),
            long.TryParse(F(App.ReviewedAt), out var rv) ? DateTimeOffset.FromUnixTimeMilliseconds(rv) : null,
            history.Select(x => JsonSerializer.Deserialize<ApplicationHistoryEntry>((string)x!)!).ToList())
        {
            LicenseReads = reads.Select(x => JsonSerializer.Deserialize<LicenseReadEntry>((string)x!)!).ToList(),
            Reviewer = F(App.Reviewer),
            ReviewKey = F(App.ReviewKey),
        };
    }

    /// <summary>How many license reads an application keeps (the oldest fall off).</summary>
    public const int LicenseReadsKept = 100;

    /// <summary>
    /// Records a read of an application's license: <c>LPUSH</c> and <c>LTRIM</c> of
    /// <c>{acct:M}:onb:app:&lt;id&gt;:reads</c> in one MULTI/EXEC (one slot), so the log never
    /// holds more than <see cref="LicenseReadsKept"/> entries.
    /// </summary>
    public async Task RecordLicenseReadAsync(string mainId, string applicationId, LicenseReadEntry entry)
    {
        var key = ReadsKey(mainId, applicationId);
        var tran = redis.CreateTransaction();
        _ = tran.ListLeftPushAsync(key, JsonSerializer.Serialize(entry));
        _ = tran.ListTrimAsync(key, 0, LicenseReadsKept - 1);
        await tran.ExecuteAsync();
    }

    public async Task<IReadOnlyList<string>> ListApplicationIdsAsync(string mainId) =>
        (await redis.SortedSetRangeByRankAsync(AppsKey(mainId))).Select(v => (string)v!).ToList();

    /// <summary>Pending applications, oldest first; entries that are no longer pending are dropped from the queue (<see cref="ReviewQueue"/>).</summary>
    public async Task<IReadOnlyList<ApplicationRecord>> ListPendingAsync(int skip, int take) =>
        (await ReviewQueue.ReadAsync(redis, PendingQueueKey, skip, take, time.GetUtcNow(),
            (_, appId) => GetApplicationAsync(appId), app => app.State == ApplicationState.Pending)).Pending;

    /// <summary>Runs review-application.lua: the outcome, the status after it and whether the service opened now.</summary>
    public async Task<ReviewApplicationScript.Result> ReviewAsync(
        ApplicationRecord app, string key, bool approve, string reason, string reviewer, DateTimeOffset now, string priceBook, Settlement cycle)
    {
        await outbox.RegisterAsync(RedisKeys.AccountTag(app.AccountId));
        var result = await ReviewApplicationScript.Instance.RunAsync(redis, new(app, key, approve, reason, reviewer, now, priceBook, cycle));
        if (result.Outcome == ReviewOutcome.Decided)
        {
            outbox.Notify(RedisKeys.AccountTag(app.AccountId));
            await redis.SortedSetRemoveAsync(PendingQueueKey, ReviewQueue.Member(app.AccountId, app.Id));
        }
        return result;
    }
}
