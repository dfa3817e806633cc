using FaceId.Metering.Application;
using FaceId.Metering.Grpc;
using FaceId.Packages.Catalog;
using FaceId.Packages.Ledger;
using FaceId.Redis;

namespace FaceId.Metering;

/// <summary>Registration of the Metering service: a marker type for test hosts, too.</summary>
public static class MeteringHost
{
    public const string AppId = "metering";

    public static IServiceCollection AddMeteringService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddProductCatalog(configuration);
        services.AddUsageCharges();
        services.AddSingleton<AccountDirectory>();
        services.AddSingleton<UsageRecordValidator>();
        services.AddSingleton<MeteringApplication>();
        // The hot path awaits Redis everywhere, never blocks on it: its replies can be read on the pool (RedisOptions).
        services.PostConfigure<RedisOptions>(o => o.ReadOnThreadPool = true);
        return services;
    }

    public static WebApplication MapMeteringService(this WebApplication app)
    {
        app.MapGrpcService<MeteringGrpcService>();
        return app;
    }
}
