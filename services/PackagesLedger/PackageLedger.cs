using System.Globalization;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The Packages service's writes to the prepaid ledger: accounts' service state, purchases and
/// grants, the time-based package steps. Every change is one Lua script on the account's slot that
/// also writes its events to the account's outbox; the relay is notified afterwards. Reads are
/// <see cref="PackageReader"/>'s, Metering's deduction is <see cref="UsageCharges"/>'.
/// </summary>
public sealed class PackageLedger(IDatabase redis, OutboxRelay outbox, PackageSchedule schedule, TimeProvider time)
{
    private static readonly RedisScript ActivateScript = RedisScript.FromResource(typeof(PackageLedger).Assembly, "activate.lua");
    private static readonly OutboxScript CreatePackagesScript = OutboxScript.FromResource(typeof(PackageLedger).Assembly, "create-packages.lua", PackageScriptLibrary.Preamble);
    private static readonly RedisScript SetServiceStateScript = RedisScript.FromResource(typeof(PackageLedger).Assembly, "set-service-state.lua");
    private static readonly OutboxScript ExpiryScript = OutboxScript.FromResource(typeof(PackageLedger).Assembly, "expiry-alert.lua", PackageScriptLibrary.Preamble);

    /// <summary>Records a main or sub-account so metering can tell unknown from unopened accounts (R-ACC-1).</summary>
    public Task RegisterAccountAsync(string accountId, string? mainAccountId) =>
        string.IsNullOrEmpty(mainAccountId)
            ? redis.HashSetAsync(LedgerKeys.Service(accountId), [new HashEntry("kind", "main")])
            : redis.HashSetAsync(LedgerKeys.Service(accountId), [new HashEntry("kind", "sub"), new HashEntry("main", mainAccountId)]);

    /// <summary>Opens the service once (R-ONB-2); returns true the first time.</summary>
    public async Task<bool> OpenServiceAsync(string accountId, DateTimeOffset activatedAt, string priceBook, Settlement cycle)
    {
        var r = (RedisResult[])(await ActivateScript.RunAsync(redis, [LedgerKeys.Service(accountId)],
            [activatedAt.ToUnixTimeMilliseconds(), priceBook, cycle.ToString().ToLowerInvariant()]))!;
        return (long)r[2] == 1;
    }

    /// <summary>
    /// Creates packages exactly once per <paramref name="guard"/> (an order id, or a grant name),
    /// backdating the purchase day's postpaid calls onto them (R-PKG-4). Returns the ids and
    /// whether they were created now (false = an earlier call created them).
    /// </summary>
    public async Task<(IReadOnlyList<string> Ids, bool Created)> CreatePackagesAsync(
        string accountId, string guard, IReadOnlyList<NewPackage> packages, DateTimeOffset purchasedAt, bool requireOpenedService, string orderId = "")
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(accountId));
        var now = time.GetUtcNow();
        var validFrom = ChinaCalendar.StartOfDay(purchasedAt);
        var expires = ChinaCalendar.AnniversaryOf(purchasedAt);
        var day = DayKey(purchasedAt);
        var args = new List<RedisValue>
        {
            LedgerKeys.Tag(accountId), accountId, requireOpenedService ? 1 : 0, now.ToUnixTimeMilliseconds(), Iso(now),
            EventTopics.PackageDelivered, PackageDelivered.Descriptor.FullName,
            EventTopics.UsageBackdated, UsageBackdated.Descriptor.FullName,
            EventTopics.PackageAlert, PackageAlert.Descriptor.FullName,
            purchasedAt.ToUnixTimeMilliseconds(), validFrom.ToUnixTimeMilliseconds(), day, expires.ToUnixTimeMilliseconds(), orderId,
            packages.Count,
        };
        if (packages.Count == 0) throw new ArgumentException("no package to create", nameof(packages));
        var ids = new List<string>();
        foreach (var p in packages)
        {
            var id = PackageId(accountId, guard, ids.Count);
            ids.Add(id);
            var delivered = new PackageDelivered
            {
                AccountId = accountId, PackageId = id, Label = p.Label, Size = p.Size, PriceFen = p.PriceFen, Free = p.Free,
                PurchasedAt = Timestamp.FromDateTimeOffset(purchasedAt), ValidFrom = Timestamp.FromDateTimeOffset(validFrom),
                ExpiresAt = Timestamp.FromDateTimeOffset(expires), PriceBook = p.PriceBook,
            };
            args.AddRange([id, p.Label, p.Size, p.PriceFen, p.Free ? 1 : 0, p.PriceBook, EventJson.Format(delivered)]);
        }
        // The schedule is written first (its own slot): a day whose packages never came to be finds none
        // when due. Never removed on failure: the ids are the guard's, so a concurrent call may be creating them.
        await schedule.AddAsync(accountId, purchasedAt);
        var r = (RedisResult[])(await CreatePackagesScript.RunAsync(redis,
            [LedgerKeys.Service(accountId), LedgerKeys.Outbox(accountId), LedgerKeys.PurchaseDays(accountId)],
            args.ToArray()))!;
        var status = (string)r[0]!;
        switch (status)
        {
            case "not_opened":
                throw new PreconditionFailedException("SERVICE_NOT_OPENED", accountId, "The service is not opened for this account yet (R-ACC-2).");
            case "suspended":
                throw new PreconditionFailedException("SERVICE_SUSPENDED", accountId, "The service is suspended for arrears (R-BIL-4).");
        }
        if (status == "ok") outbox.Notify(LedgerKeys.Tag(accountId));
        return (((string)r[1]!).Split(',', StringSplitOptions.RemoveEmptyEntries), status == "ok");
    }

    /// <summary>Suspends (arrears) or resumes the service; stale or repeated changes are ignored (R-BIL-4).</summary>
    public async Task SetSuspendedAsync(string accountId, bool suspended, DateTimeOffset at) =>
        await SetServiceStateScript.RunAsync(redis, [LedgerKeys.Service(accountId)], [suspended ? "suspended" : "opened", at.ToUnixTimeMilliseconds()]);

    /// <summary>Runs one time-based step of a package (expiry-alert.lua); returns what happened.</summary>
    public async Task<string> RunPackageStepAsync(string accountId, string packageId, string step)
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(accountId));
        var now = time.GetUtcNow();
        var result = (string)(await ExpiryScript.RunAsync(redis, [LedgerKeys.Outbox(accountId)],
        [
            LedgerKeys.Tag(accountId), accountId, packageId, step, now.ToUnixTimeMilliseconds(), Iso(now),
            EventTopics.PackageAlert, PackageAlert.Descriptor.FullName,
        ]))!;
        if (result == "raised") outbox.Notify(LedgerKeys.Tag(accountId));
        return result;
    }

    private static string DayKey(DateTimeOffset t) => ChinaCalendar.DateOf(t).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    internal static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// The id of the index-th package created under a guard (order id, grant): derived, so the first
    /// package's existence is the exactly-once guard and no separate guard key is kept.
    /// </summary>
    public static string PackageId(string accountId, string guard, int index) =>
        "pkg_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{accountId}\n{guard}\n{index}")))[..20];
}
