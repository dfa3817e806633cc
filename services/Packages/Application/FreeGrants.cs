using FaceId.Common;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Packages.Ledger;
using FaceId.Packages.Catalog;

namespace FaceId.Packages.Application;

/// <summary>
/// Free packages (price 0): the trial on first activation (R-ONB-3) and the E证通 package on the
/// first merchant id (R-ONB-5). Each is guarded in the ledger, so retries, replays and
/// re-approvals never grant twice.
/// </summary>
public sealed class FreeGrants(PackageLedger ledger, PackageReader reader, ProductCatalog catalog)
{
    public const long TrialCalls = 100;
    public const long EidCalls = 100;
    public const string TrialGuard = "grant:trial";
    public const string EidGuard = "grant:eid";

    /// <summary>The trial of the account's own price book (the ledger's, from its activation): packages it can use.</summary>
    public async Task<(IReadOnlyList<string> Ids, bool Created)> GrantTrialAsync(string accountId, DateTimeOffset at)
    {
        var book = (await reader.GetServiceAsync(accountId))?.PriceBook
            ?? throw new InvalidOperationException($"account {accountId} has no price book in the ledger: the trial follows its activation");
        return await ledger.CreatePackagesAsync(accountId, TrialGuard,
            catalog.TrialLabels(book).Select(l => new NewPackage(l.Id, TrialCalls, 0, Free: true, book)).ToList(),
            at, requireOpenedService: false);
    }

    public Task<(IReadOnlyList<string> Ids, bool Created)> GrantEidAsync(string accountId, DateTimeOffset at) =>
        ledger.CreatePackagesAsync(accountId, EidGuard,
            [new NewPackage(catalog.EidLabel.Id, EidCalls, 0, Free: true, ProductCatalog.CurrentBook)],
            at, requireOpenedService: false);
}
