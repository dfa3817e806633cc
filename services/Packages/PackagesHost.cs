using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Packages.Application;
using FaceId.Packages.Grpc;
using FaceId.Packages.Catalog;
using FaceId.Packages.Ledger;

namespace FaceId.Packages;

/// <summary>Registration of the Packages service: a marker type for test hosts, too.</summary>
public static class PackagesHost
{
    public const string AppId = "packages";

    public static EventBusBuilder AddPackagesSubscriptions(this EventBusBuilder events) => events
        .AddSubscription<AccountCreated, AccountCreatedHandler>()
        .AddSubscription<ServiceActivated, ServiceActivatedHandler>()
        .AddSubscription<EnterpriseVerified, EnterpriseVerifiedHandler>()
        .AddSubscription<MerchantIdIssued, MerchantIdIssuedHandler>()
        .AddSubscription<ServiceSuspended, ServiceSuspendedHandler>()
        .AddSubscription<ServiceResumed, ServiceResumedHandler>();

    public static IServiceCollection AddPackagesService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddProductCatalog(configuration);
        services.AddPackageLedger();
        services.AddPackageExpiryScheduler();
        services.AddSingleton<FreeGrants>();
        services.AddSingleton<PackagesApplication>();
        return services;
    }

    public static WebApplication MapPackagesService(this WebApplication app)
    {
        app.MapGrpcService<PackagesGrpcService>();
        return app;
    }
}
