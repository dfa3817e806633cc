using System.Globalization;
using FaceId.Common;
using FaceId.EventBus.Outbox;
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
    /// <summary>Records a main or sub-account so metering can tell unknown from unopened accounts (R-ACC-1).</summary>
    public Task RegisterAccountAsync(string accountId, string? mainAccountId) =>
        string.IsNullOrEmpty(mainAccountId)
            ? redis.HashSetAsync(LedgerKeys.Service(accountId), [new HashEntry(ServiceFields.Kind, "main")])
            : redis.HashSetAsync(LedgerKeys.Service(accountId), [new HashEntry(ServiceFields.Kind, "sub"), new HashEntry(ServiceFields.Main, mainAccountId)]);

    /// <summary>
    /// Records that Onboarding verified the main account as an enterprise at <paramref name="verifiedAt"/> (R-ONB-4): from
    /// then on it may buy E证通 packages and meter E证通 calls. Once: a verification is never withdrawn, a repeat changes nothing.
    /// </summary>
    public Task SetEnterpriseVerifiedAsync(string accountId, DateTimeOffset verifiedAt) =>
        redis.HashSetAsync(LedgerKeys.Service(accountId), ServiceFields.EnterpriseVerifiedAt, verifiedAt.ToUnixTimeMilliseconds(), When.NotExists);

    /// <summary>Opens the service once (R-ONB-2); returns true the first time.</summary>
    public async Task<bool> OpenServiceAsync(string accountId, DateTimeOffset activatedAt, string priceBook, Settlement cycle) =>
        (await ActivateScript.Instance.RunAsync(redis, new(accountId, activatedAt, priceBook, cycle))).First;

    /// <summary>
    /// Creates packages exactly once per <paramref name="guard"/> (an order id, or a grant name),
    /// backdating the purchase day's postpaid calls onto them (R-PKG-4). Returns the ids and
    /// whether they were created now (false = an earlier call created them).
    /// </summary>
    public async Task<(IReadOnlyList<string> Ids, bool Created)> CreatePackagesAsync(
        string accountId, string guard, IReadOnlyList<NewPackage> packages, DateTimeOffset purchasedAt, bool requireOpenedService, string orderId = "")
    {
        if (packages.Count == 0) throw new ArgumentException("no package to create", nameof(packages));
        await outbox.RegisterAsync(LedgerKeys.Tag(accountId));
        var request = new CreatePackagesScript.Request(accountId, requireOpenedService, time.GetUtcNow(), purchasedAt, orderId,
            [.. packages.Select((p, i) => (PackageId(accountId, guard, i), p))]);
        // The schedule is written first (its own slot): a day whose packages never came to be finds none
        // when due. Never removed on failure: the ids are the guard's, so a concurrent call may be creating them.
        await schedule.AddAsync(accountId, purchasedAt);
        var result = await CreatePackagesScript.Instance.RunAsync(redis, request);
        switch (result.Status)
        {
            case CreateStatus.NotOpened:
                throw new PreconditionFailedException("SERVICE_NOT_OPENED", accountId, "The service is not opened for this account yet (R-ACC-2).");
            case CreateStatus.Suspended:
                throw new PreconditionFailedException("SERVICE_SUSPENDED", accountId, "The service is suspended for arrears (R-BIL-4).");
            case CreateStatus.Created:
                outbox.Notify(LedgerKeys.Tag(accountId));
                break;
        }
        return (result.Ids, result.Status == CreateStatus.Created);
    }

    /// <summary>
    /// Suspends (arrears) or resumes the service at <paramref name="at"/>, into its history of instants: calls are judged by
    /// the state at their own time (R-BIL-4, R-MET-4); changes may arrive out of order, a repeat changes nothing.
    /// </summary>
    public async Task SetSuspendedAsync(string accountId, bool suspended, DateTimeOffset at) =>
        await SetServiceStateScript.Instance.RunAsync(redis, new(accountId, suspended, at, time.GetUtcNow()));

    /// <summary>Runs one time-based step of a package (expiry-alert.lua); returns what happened.</summary>
    public async Task<PackageStepOutcome> RunPackageStepAsync(string accountId, string packageId, PackageStep step)
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(accountId));
        var outcome = await PackageStepScript.Instance.RunAsync(redis, new(accountId, packageId, step, time.GetUtcNow()));
        if (outcome == PackageStepOutcome.Raised) outbox.Notify(LedgerKeys.Tag(accountId));
        return outcome;
    }

    internal static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>What every package id starts with (PKG_ID_PREFIX in Lua; LedgerKeys.PackageBucket reads the hex after it).</summary>
    public const string PackageIdPrefix = "pkg_";

    /// <summary>
    /// The id of the index-th package created under a guard (order id, grant): derived, so the first
    /// package's existence is the exactly-once guard and no separate guard key is kept.
    /// </summary>
    public static string PackageId(string accountId, string guard, int index) =>
        PackageIdPrefix + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{accountId}\n{guard}\n{index}")))[..20];
}
