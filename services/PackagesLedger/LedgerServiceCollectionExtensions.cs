using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FaceId.Packages.Ledger;

/// <summary>Each service registers the part of the ledger it uses (docs/architecture.md, key ownership).</summary>
public static class LedgerServiceCollectionExtensions
{
    /// <summary>Reads of the ledger (service views, package records): Refund, and the two below.</summary>
    public static IServiceCollection AddPackageReader(this IServiceCollection services)
    {
        services.TryAddSingleton<PackageReader>();
        return services;
    }

    /// <summary>Metering's charge API (deduct.lua) and the reads it needs.</summary>
    public static IServiceCollection AddUsageCharges(this IServiceCollection services)
    {
        services.AddPackageReader();
        services.AddSingleton<UsageCharges>();
        return services;
    }

    /// <summary>The Packages service's writers (accounts' service state, purchases, grants, package steps) and the schedule.</summary>
    public static IServiceCollection AddPackageLedger(this IServiceCollection services)
    {
        services.AddPackageReader();
        services.AddSingleton<PackageSchedule>();
        services.AddSingleton<PackageLedger>();
        return services;
    }

    /// <summary>The expiry scheduler: run by the Packages service, which owns the package lifecycle.</summary>
    public static IServiceCollection AddPackageExpiryScheduler(this IServiceCollection services)
    {
        services.AddSingleton<ExpiryScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpiryScheduler>());
        return services;
    }
}
