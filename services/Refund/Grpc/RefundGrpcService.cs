using FaceId.Contracts.Refund.V1;
using FaceId.Refund.Application;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = FaceId.Contracts.Refund.V1;
using FaceId.Auth;
using FaceId.ServiceDefaults.Security;
using Microsoft.AspNetCore.RateLimiting;

namespace FaceId.Refund.Grpc;

/// <summary>Maps messages to <see cref="RefundApplication"/> and back; no rules here.</summary>
public sealed class RefundGrpcService(RefundApplication refunds) : RefundService.RefundServiceBase
{
    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<Proto.Refund> RequestRefund(RequestRefundRequest request, ServerCallContext context) =>
        ToProto(await refunds.RequestRefundAsync(request.IdempotencyKey, request.AccountId, request.PackageId));

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<Proto.Refund> GetRefund(GetRefundRequest request, ServerCallContext context) =>
        ToProto(await refunds.GetRefundAsync(request.AccountId, request.RefundId));

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<ListRefundsResponse> ListRefunds(ListRefundsRequest request, ServerCallContext context)
    {
        var (page, next) = await refunds.ListRefundsAsync(request.AccountId, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListRefundsResponse { Refunds = { page.Select(ToProto) }, NextPageToken = next };
    }

    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<ListRefundEligibilityResponse> ListRefundEligibility(ListRefundEligibilityRequest request, ServerCallContext context)
    {
        var (page, next) = await refunds.ListEligibilityAsync(request.AccountId, request.PackageId, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListRefundEligibilityResponse { Packages = { page.Select(ToProto) }, NextPageToken = next };
    }

    private static RefundEligibility ToProto(RefundEligibilityRecord e) => new()
    {
        PackageId = e.Package.Id,
        Refundable = e.Refundable,
        Reason = e.Refusal ?? "",
        Description = e.Description,
        RefundId = e.RefundId,
        WindowClosesAt = e.WindowClosesAt is { } end ? Timestamp.FromDateTimeOffset(end) : null,
        AmountFen = e.Package.Free ? 0 : e.Package.PriceFen,
    };

    private static Proto.Refund ToProto(RefundRecord r) => new()
    {
        RefundId = r.Id,
        AccountId = r.AccountId,
        PackageId = r.PackageId,
        AmountFen = r.AmountFen,
        State = ToProto(r.State),
        RejectionReason = r.RejectionReason,
        RequestedAt = Timestamp.FromDateTimeOffset(r.RequestedAt),
        History = { r.History.Select(h => new Proto.RefundTransition { State = ToProto(h.State), At = Timestamp.FromDateTimeOffset(h.At), Note = h.Note }) },
    };

    /// <summary>A refund state on the wire; an unknown state is a fault, never "rejected".</summary>
    public static Proto.RefundState ToProto(Application.RefundState state) => state switch
    {
        Application.RefundState.Requested => Proto.RefundState.Requested,
        Application.RefundState.Approved => Proto.RefundState.Approved,
        Application.RefundState.Credited => Proto.RefundState.Credited,
        Application.RefundState.Rejected => Proto.RefundState.Rejected,
        _ => throw new InvalidOperationException($"unknown refund state '{state}' from the refund application"),
    };
}
