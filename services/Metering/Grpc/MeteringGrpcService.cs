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
    public override async Task<RecordUsageResponse> RecordUsage(RecordUsageRequest request, ServerCallContext context)
    {
        // Bad input is an expected outcome here (a misconfigured gateway): refused without an exception.
        var record = request.Record ?? new UsageRecord();
        var recorded = ProtoTime.TryToInstant(record.OccurredAt, out var at)
            ? await metering.RecordAsync(ToInput(record, at))
            : ProtoTime.Invalid("record.occurred_at");
        return recorded.Refusal is { } refusal
            ? DomainExceptionInterceptor.Refuse<RecordUsageResponse>(context, refusal)
            : new() { Outcome = ToProto(recorded.Value!) };
    }

    [Allow(Roles.Gateway, Roles.Service, Roles.SubAccount, AccountField = "records[].account_id")]
    public override async Task<RecordUsageBatchResponse> RecordUsageBatch(RecordUsageBatchRequest request, ServerCallContext context)
    {
        var inputs = new List<UsageInput>(request.Records.Count);
        foreach (var r in request.Records) inputs.Add(ToInput(r, inputs.Count));
        var results = await metering.RecordBatchAsync(inputs);
        var response = new RecordUsageBatchResponse();
        response.Outcomes.AddRange(results.Select(ToProto));
        return response;
    }

    [Allow(Roles.Gateway, Roles.Service, Roles.Console, Roles.SubAccount, AccountField = "account_id")]
    public override async Task<UsageOutcome> GetUsageRecord(GetUsageRecordRequest request, ServerCallContext context) =>
        ToProto(await metering.GetAsync(request.AccountId, request.RequestId));

    /// <summary>
    /// A batch's record: the field path is only built for a bad timestamp, not for each of thousands of records.
    /// </summary>
    private static UsageInput ToInput(UsageRecord r, int index) =>
        ToInput(r, ProtoTime.TryToInstant(r.OccurredAt, out var at) ? at : throw ProtoTime.Invalid($"records[{index}].occurred_at"));

    private static UsageInput ToInput(UsageRecord r, DateTimeOffset? occurredAt) =>
        new(r.RequestId, r.AccountId, r.Label, r.Channel, r.Library, r.AccessMode, r.ReturnCode, occurredAt);

    private static UsageOutcome ToProto(UsageResult r)
    {
        var outcome = ToProtoOutcome(r);
        if (r.DifferingFields is { } fields) outcome.DifferingFields.AddRange(fields);
        return outcome;
    }

    private static UsageOutcome ToProtoOutcome(UsageResult r) => new()
    {
        RequestId = r.RequestId,
        Kind = ToProto(r.Kind),
        Duplicate = r.Duplicate,
        Billable = r.Billable,
        Label = r.Label,
        PackageId = r.PackageId,
        PackageRemaining = r.PackageRemaining,
        ChargedAccountId = r.ChargedAccountId,
        Refusal = ToProto(r.Refusal),
        PriceBook = r.PriceBook,
    };

    /// <summary>A usage kind on the wire; an unknown kind is a fault, never "refused".</summary>
    public static ChargeKind ToProto(UsageKind kind) => kind switch
    {
        UsageKind.Package => ChargeKind.Package,
        UsageKind.Postpaid => ChargeKind.Postpaid,
        UsageKind.NotBillable => ChargeKind.NotBillable,
        UsageKind.Refused => ChargeKind.Refused,
        _ => throw new InvalidOperationException($"unknown usage kind '{kind}' from the metering application"),
    };

    /// <summary>A refusal reason on the wire (None: unspecified); an unknown reason is a fault.</summary>
    public static Refusal ToProto(RefusalReason reason) => reason switch
    {
        RefusalReason.None => Refusal.Unspecified,
        RefusalReason.UnknownAccount => Refusal.UnknownAccount,
        RefusalReason.ServiceNotOpened => Refusal.ServiceNotOpened,
        RefusalReason.ServiceSuspended => Refusal.ServiceSuspended,
        RefusalReason.EnterpriseNotVerified => Refusal.EnterpriseNotVerified,
        RefusalReason.IdempotencyKeyReused => Refusal.IdempotencyKeyReused,
        _ => throw new InvalidOperationException($"unknown refusal reason '{reason}' from the metering application"),
    };
}
