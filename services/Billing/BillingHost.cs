using FaceId.Billing.Application;
using FaceId.Billing.Grpc;
using FaceId.Billing.Http;
using FaceId.Billing.Infrastructure;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Packages.Catalog;

namespace FaceId.Billing;

/// <summary>Registration of the Billing service: a marker type for test hosts, too.</summary>
public static class BillingHost
{
    public const string AppId = "billing";

    public static EventBusBuilder AddBillingSubscriptions(this EventBusBuilder events) => events
        .AddSubscription<ServiceActivated, ServiceActivatedHandler>()
        .AddSubscription<UsageCharged, UsageChargedHandler>()
        .AddSubscription<UsageBackdated, UsageBackdatedHandler>()
        .AddSubscription<PackageDelivered, PackageDeliveredHandler>()
        .AddSubscription<RefundCompleted, RefundCompletedHandler>();

    public static IServiceCollection AddBillingService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BillingOptions>().BindConfiguration(BillingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Read only: the price books of the Packages catalog (its data files). Billing writes no key of another service.
        services.AddProductCatalog(configuration);
        services.AddSingleton<BillingMetrics>();
        services.AddSingleton<BillingStore>();
        services.AddSingleton<SettlementService>();
        services.AddSingleton<BalanceService>();
        services.AddSingleton<StatisticsService>();
        services.AddSingleton<ReconciliationService>();
        services.AddSingleton<BillQueries>();
        services.AddSingleton<ExportService>();
        services.AddSingleton<BillingScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<BillingScheduler>());
        return services;
    }

    public static WebApplication MapBillingService(this WebApplication app)
    {
        app.MapGrpcService<BillingGrpcService>();
        app.MapExportEndpoints();
        return app;
    }
}
