using FaceId.Common;
using FaceId.Packages.Ledger;
using FaceId.Packages.Catalog;

namespace FaceId.Packages.Application;

public sealed record LabelBalanceView(string Label, long Remaining, int ActivePackages);

/// <summary>Purchases and queries of packages (R-PKG-1, R-PKG-2, R-PKG-7, R-ACC-1, R-ACC-2, R-ONB-4).</summary>
public sealed class PackagesApplication(PackageLedger ledger, PackageReader packages, ProductCatalog catalog, TimeProvider time)
{
    public PriceBook Catalog(string priceBook) => catalog.Book(string.IsNullOrEmpty(priceBook) ? ProductCatalog.CurrentBook : priceBook);

    public async Task<PackageRecord> PurchaseAsync(string orderId, string accountId, string label, long size)
    {
        new InputValidator()
            .Id("order_id", orderId)
            .Id("account_id", accountId)
            .Text("label", label, FieldLimits.CatalogValue)
            .Require(size > 0, "size", "must be a positive number of calls")
            .ThrowIfInvalid();
        var service = await RequireMainAccountAsync(accountId);
        if (service.ActivatedAt is null || service.PriceBook is null)
            throw new PreconditionFailedException("SERVICE_NOT_OPENED", accountId, "The service must be opened before buying packages (R-ACC-2).");
        var definition = catalog.Book(service.PriceBook).Find(label)
            ?? throw new InvalidInputException("label", $"unknown billing label '{label}' in price book {service.PriceBook}");
        var offer = definition.Offer(size)
            ?? throw new InvalidInputException("size", definition.Packages.Count == 0
                ? $"label '{label}' is postpaid only"
                : $"no package of {size} calls for '{label}'; sizes: {string.Join(", ", definition.Packages.Select(p => p.Size))}");
        // E证通 only for enterprise-verified accounts; a verification is never withdrawn, so this read cannot go stale.
        if (ProductCatalog.IsEnterpriseOnly(definition.Id) && !service.EnterpriseVerifiedBy(time.GetUtcNow()))
            throw EnterpriseOnly.NotVerified(accountId);

        var (ids, _) = await ledger.CreatePackagesAsync(accountId, "order:" + orderId,
            [new NewPackage(label, offer.Size, offer.PriceFen, Free: false, service.PriceBook)], time.GetUtcNow(), requireOpenedService: true, orderId);
        var package = await packages.GetPackageAsync(accountId, ids[0])
            ?? throw new InvalidOperationException($"package {ids[0]} vanished after its creation");
        IdempotentRequest.ThrowIfDiffering("order_id", ("label", package.Label, label), ("size", package.Size, size));
        return package;
    }

    public async Task<PackageRecord> GetAsync(string accountId, string packageId)
    {
        new InputValidator().Id("account_id", accountId).Id("package_id", packageId).ThrowIfInvalid();
        return await packages.GetPackageAsync(accountId, packageId) ?? throw new NotFoundException("package", packageId);
    }

    public async Task<IReadOnlyList<PackageRecord>> ListAsync(string accountId, string? label, PackageState? state)
    {
        new InputValidator().Id("account_id", accountId).ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        var now = time.GetUtcNow();
        return (await packages.ListPackagesAsync(accountId))
            .Where(p => string.IsNullOrEmpty(label) || p.Label == label)
            .Where(p => state is null || p.StateAt(now) == state)
            .ToList();
    }

    /// <summary>Remaining calls per label over the packages usable now (R-PKG-7).</summary>
    public async Task<IReadOnlyList<LabelBalanceView>> BalancesAsync(string accountId)
    {
        var now = time.GetUtcNow();
        var active = (await ListAsync(accountId, null, PackageState.Active)).Where(p => p.ValidFrom <= now);
        return active.GroupBy(p => p.Label)
            .Select(g => new LabelBalanceView(g.Key, g.Sum(p => p.Remaining), g.Count()))
            .OrderBy(b => b.Label, StringComparer.Ordinal)
            .ToList();
    }

    private async Task<ServiceView> RequireMainAccountAsync(string accountId)
    {
        var service = await packages.GetServiceAsync(accountId) ?? throw new NotFoundException("account", accountId);
        if (service.IsSubAccount)
            throw new PreconditionFailedException("SUB_ACCOUNT", accountId,
                "Packages belong to the main account; use the main account id (R-ACC-1).");
        return service;
    }
}
