using FaceId.Contracts.Billing.V1;

namespace FaceId.Billing.Grpc;

/// <summary>The Billing API. Statistics, settlement and balances arrive with issue #5; until then every RPC answers UNIMPLEMENTED.</summary>
public sealed class BillingGrpcService : BillingService.BillingServiceBase;
