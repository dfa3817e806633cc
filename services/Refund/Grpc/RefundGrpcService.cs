using FaceId.Contracts.Refund.V1;

namespace FaceId.Refund.Grpc;

/// <summary>The Refund API. 7-day refunds arrive with issue #6; until then every RPC answers UNIMPLEMENTED.</summary>
public sealed class RefundGrpcService : RefundService.RefundServiceBase;
