using FaceId.Packages.Ledger.Catalog;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FaceId.Packages.Ledger;

public static class LedgerServiceCollectionExtensions
{
    /// <summary>
    /// The product catalog (loaded from Catalog:Directory, default &lt;app&gt;/catalog, validated when
    /// the host starts) and the package ledger.
    /// </summary>
    public static IServiceCollection AddPackageLedger(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => CatalogLoader.Load(configuration["Catalog:Directory"] is { Length: > 0 } dir ? dir : CatalogLoader.DefaultDirectory));
        services.AddHostedService<CatalogStartupCheck>();
        services.AddSingleton<PackageSchedule>();
        services.AddSingleton<PackageLedger>();
        services.AddSingleton<RefundLedger>();
        return services;
    }

    /// <summary>The expiry scheduler: run by the Packages service, which owns the package lifecycle.</summary>
    public static IServiceCollection AddPackageExpiryScheduler(this IServiceCollection services)
    {
        services.AddSingleton<ExpiryScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpiryScheduler>());
        return services;
    }

    private sealed class CatalogStartupCheck(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<ProductCatalog>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
