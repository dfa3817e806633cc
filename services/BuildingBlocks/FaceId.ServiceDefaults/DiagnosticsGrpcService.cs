using FaceId.Common;
using FaceId.Contracts.Diagnostics.V1;
using FaceId.EventBus;
using Grpc.Core;
using Microsoft.Extensions.Options;
using FaceId.Auth;
using FaceId.ServiceDefaults.Security;

namespace FaceId.ServiceDefaults;

/// <summary>The no-op method every service serves (the benchmarks' gRPC ceiling).</summary>
public sealed class DiagnosticsGrpcService(IOptions<EventBusOptions> options) : DiagnosticsService.DiagnosticsServiceBase
{
    [Allow(Roles.Gateway, Roles.Console, Roles.SubAccount, Roles.Reviewer, Roles.BillingOperator, Roles.Service)]
    public override Task<PingResponse> Ping(PingRequest request, ServerCallContext context)
    {
        if (request.Payload.Length > 1024) throw new InvalidInputException("payload", "must be at most 1024 bytes");
        return Task.FromResult(new PingResponse { Payload = request.Payload, Service = options.Value.AppId });
    }
}
