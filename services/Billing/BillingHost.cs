using FaceId.Billing.Grpc;

namespace FaceId.Billing;

/// <summary>Registration of the Billing service: a marker type for test hosts, too.</summary>
public static class BillingHost
{
    public const string AppId = "billing";

    public static WebApplication MapBillingService(this WebApplication app)
    {
        app.MapGrpcService<BillingGrpcService>();
        return app;
    }
}
