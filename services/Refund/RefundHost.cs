using FaceId.Packages.Ledger;
using FaceId.Refund.Application;
using FaceId.Refund.Grpc;

namespace FaceId.Refund;

/// <summary>Registration of the Refund service: a marker type for test hosts, too.</summary>
public static class RefundHost
{
    public const string AppId = "refund";

    /// <summary>
    /// The package reads of the ledger, the refund's two atomic steps (RefundLedger), the refund
    /// records, the pending set and its completion worker (a hosted service: it runs only under a
    /// host), configured from the "Refund" section.
    /// </summary>
    public static IServiceCollection AddRefundService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPackageReader();
        services.AddSingleton<RefundLedger>();
        services.AddOptions<RefundOptions>()
            .Bind(configuration.GetSection(RefundOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<RefundStore>();
        services.AddSingleton<PendingRefunds>();
        services.AddSingleton<RefundApplication>();
        services.AddSingleton<RefundCompletionWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<RefundCompletionWorker>());
        return services;
    }

    public static WebApplication MapRefundService(this WebApplication app)
    {
        app.MapGrpcService<RefundGrpcService>();
        return app;
    }
}
