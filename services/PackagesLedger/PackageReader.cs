using System.Globalization;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// Reads of the prepaid ledger (the Packages service's keys): an account's service view and its
/// packages. Read-only, so Metering and Refund use it without the writers.
/// </summary>
public sealed class PackageReader(IDatabase redis)
{
    public async Task<ServiceView?> GetServiceAsync(string accountId)
    {
        var v = await redis.HashGetAsync(LedgerKeys.Service(accountId),
            [ServiceFields.Kind, ServiceFields.Main, ServiceFields.State, ServiceFields.ActivatedAt, ServiceFields.PriceBook, ServiceFields.EnterpriseVerifiedAt]);
        if (v[0].IsNull && v[2].IsNull) return null;
        static DateTimeOffset? Ms(RedisValue ms) => ms.IsNull ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)ms);
        return new ServiceView(accountId, v[1].IsNullOrEmpty ? null : (string)v[1]!, v[2].IsNull ? null : (string)v[2]!,
            Ms(v[3]), v[4].IsNull ? null : (string)v[4]!, Ms(v[5]));
    }

    /// <summary>The packages the account bought on <paramref name="day"/> (Shanghai time): one schedule member's packages.</summary>
    public async Task<IReadOnlyList<string>> ListPackageIdsPurchasedOnAsync(string accountId, DateOnly day)
    {
        var ids = await redis.ListRangeAsync(LedgerKeys.PurchasedOn(accountId, day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)));
        return ids.Select(id => (string)id!).ToList();
    }

    public async Task<PackageRecord?> GetPackageAsync(string accountId, string packageId)
    {
        var stored = await redis.HashGetAsync(LedgerKeys.PackageBucket(accountId, packageId), packageId);
        return stored.IsNull ? null : PackageRecord.Parse(accountId, packageId, stored!);
    }

    /// <summary>Every package of the account, oldest purchase first (then by id).</summary>
    public async Task<IReadOnlyList<PackageRecord>> ListPackagesAsync(string accountId)
    {
        var days = await redis.SortedSetRangeByRankAsync(LedgerKeys.PurchaseDays(accountId));
        var batch = redis.CreateBatch();
        var lists = days.Select(d => batch.ListRangeAsync(LedgerKeys.PurchasedOn(accountId, d!))).ToArray();
        batch.Execute();
        var ids = (await Task.WhenAll(lists)).SelectMany(l => l).Select(id => (string)id!).ToArray();
        batch = redis.CreateBatch();
        var reads = ids.Select(id => batch.HashGetAsync(LedgerKeys.PackageBucket(accountId, id), id)).ToArray();
        batch.Execute();
        var stored = await Task.WhenAll(reads);
        return ids.Zip(stored).Where(x => !x.Second.IsNull).Select(x => PackageRecord.Parse(accountId, x.First, x.Second!))
            .OrderBy(p => p.PurchasedAt).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
    }
}
