using FaceId.Packages.Catalog;

namespace FaceId.Billing.Tests.Domain;

/// <summary>The real catalog data files (copied next to the tests from services/PackagesCatalog/data).</summary>
public static class Catalog
{
    public static readonly ProductCatalog Instance = CatalogLoader.Load(CatalogLoader.DefaultDirectory);
}
