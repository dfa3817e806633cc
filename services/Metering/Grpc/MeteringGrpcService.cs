using FaceId.Contracts.Metering.V1;
using FaceId.Metering.Application;
using Grpc.Core;
using FaceId.Auth;
using FaceId.ServiceDefaults;
using FaceId.ServiceDefaults.Security;

namespace FaceId.Metering.Grpc;

/// <summary>Maps messages to <see cref="MeteringApplication"/> and back; no rules here.</summary>
public sealed class MeteringGrpcService(MeteringApplication metering) : MeteringService.MeteringServiceBase
{
    [Allow(Roles.Gateway, Roles.Service, Roles.SubAccount, AccountField = "record.account_id")]
    public override async Task<RecordUsageResponse> RecordUsage(RecordUsageRequest request, ServerCallContext context) =>
        new() { Outcome = ToProto(await metering.RecordAsync(ToInput(request.Record ?? new UsageRecord(), "record."))) };

    [Allow(Roles.Gateway, Roles.Service, Roles.SubAccount, AccountField = "records[].account_id")]
    public override async Task<RecordUsageBatchResponse> RecordUsageBatch(RecordUsageBatchRequest request, ServerCallContext context)
    {
        var results = await metering.RecordBatchAsync(request.Records.Select((r, i) => ToInput(r, $"records[{i}].")).ToList());
        var response = new RecordUsageBatchResponse();
        response.Outcomes.AddRange(results.Select(ToProto));
        return response;
    }

    [Allow(Roles.Gateway, Roles.Service, Roles.Console, Roles.SubAccount, AccountField = "account_id")]
    public override async Task<UsageOutcome> GetUsageRecord(GetUsageRecordRequest request, ServerCallContext context) =>
        ToProto(await metering.GetAsync(request.AccountId, request.RequestId));

    private static UsageInput ToInput(UsageRecord r, string prefix) => new(
        r.RequestId, r.AccountId, r.Label, r.Channel, r.Library, r.AccessMode, r.ReturnCode,
        r.OccurredAt.ToInstant(prefix + "occurred_at"));

    private static UsageOutcome ToProto(UsageResult r) => new()
    {
        RequestId = r.RequestId,
        Kind = r.Kind switch
        {
            UsageKind.Package => ChargeKind.Package,
            UsageKind.Postpaid => ChargeKind.Postpaid,
            UsageKind.NotBillable => ChargeKind.NotBillable,
            _ => ChargeKind.Refused,
        },
        Duplicate = r.Duplicate,
        Billable = r.Billable,
        Label = r.Label,
        PackageId = r.PackageId,
        PackageRemaining = r.PackageRemaining,
        ChargedAccountId = r.ChargedAccountId,
        Refusal = r.Refusal switch
        {
            RefusalReason.UnknownAccount => Refusal.UnknownAccount,
            RefusalReason.ServiceNotOpened => Refusal.ServiceNotOpened,
            RefusalReason.ServiceSuspended => Refusal.ServiceSuspended,
            _ => Refusal.Unspecified,
        },
        PriceBook = r.PriceBook,
    };
}
