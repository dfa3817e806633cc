using FaceId.Refund.Grpc;

namespace FaceId.Refund;

/// <summary>Registration of the Refund service: a marker type for test hosts, too.</summary>
public static class RefundHost
{
    public const string AppId = "refund";

    public static WebApplication MapRefundService(this WebApplication app)
    {
        app.MapGrpcService<RefundGrpcService>();
        return app;
    }
}
