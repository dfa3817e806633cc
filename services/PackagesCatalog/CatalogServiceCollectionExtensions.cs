using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FaceId.Packages.Catalog;

public static class CatalogServiceCollectionExtensions
{
    /// <summary>
    /// The product catalog, loaded from Catalog:Directory (default &lt;app&gt;/catalog) and validated
    /// when the host starts, so a broken data file stops the service at once.
    /// </summary>
    public static IServiceCollection AddProductCatalog(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(_ => CatalogLoader.Load(configuration["Catalog:Directory"] is { Length: > 0 } dir ? dir : CatalogLoader.DefaultDirectory));
        services.AddHostedService<CatalogStartupCheck>();
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
