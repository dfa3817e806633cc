using FaceId.Billing.Application;
using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Common;
using FaceId.Auth;
using FaceId.Contracts.Billing.V1;
using FaceId.ServiceDefaults.Security;
using Microsoft.AspNetCore.RateLimiting;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ContractCycle = FaceId.Contracts.Common.V1.SettlementCycle;
using ContractMode = FaceId.Contracts.Common.V1.AccessMode;

namespace FaceId.Billing.Grpc;

/// <summary>The Billing API (docs/api.md): maps messages to the application services and back, nothing more.</summary>
public sealed class BillingGrpcService(
    StatisticsService statistics,
    SettlementService settlement,
    BillQueries bills,
    BalanceService balances,
    ReconciliationService reconciliation,
    ExportService exports) : BillingService.BillingServiceBase
{
    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<GetStatisticsResponse> GetStatistics(GetStatisticsRequest request, ServerCallContext context)
    {
        var (rows, next) = await statistics.GetAsync(request.AccountId, Time(request.From, "from"), Time(request.To, "to"),
            Granularity(request.Granularity), request.ByAccessMode, request.BySubAccount, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new GetStatisticsResponse
        {
            Rows =
            {
                rows.Select(r => new StatisticsRow
                {
                    Period = r.Period, Label = r.Label, AccessMode = (ContractMode)r.AccessMode, SubAccountId = r.SubAccountId,
                    Calls = r.Calls, BillableCalls = r.Billable, PackageCalls = r.Package, PostpaidCalls = r.Postpaid, PostpaidAmountFen = r.PostpaidAmountFen,
                    RefusedCalls = r.Refused.Total, RefusedSuspendedCalls = r.Refused.Suspended, RefusedNotOpenedCalls = r.Refused.NotOpened,
                    RefusedNotVerifiedCalls = r.Refused.NotVerified,
                }),
            },
            NextPageToken = next,
        };
    }

    [Allow(Roles.BillingOperator, Roles.Service)]
    public override async Task<Bill> SettlePeriod(SettlePeriodRequest request, ServerCallContext context) =>
        ToProto(await settlement.SettleAsync(request.IdempotencyKey, request.AccountId, Time(request.PeriodInstant, "period_instant")));

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<Bill> GetBill(GetBillRequest request, ServerCallContext context) =>
        ToProto(await bills.GetAsync(request.AccountId, request.BillId));

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<ListBillsResponse> ListBills(ListBillsRequest request, ServerCallContext context)
    {
        var (page, next) = await bills.ListAsync(request.AccountId, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListBillsResponse { Bills = { page.Select(ToProto) }, NextPageToken = next };
    }

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<Balance> GetBalance(GetBalanceRequest request, ServerCallContext context) =>
        ToProto(await balances.GetAsync(request.AccountId));

    [Allow(Roles.BillingOperator, Roles.Service)]
    public override async Task<Balance> TopUp(TopUpRequest request, ServerCallContext context) =>
        ToProto(await balances.TopUpAsync(request.IdempotencyKey, request.AccountId, request.AmountFen));

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<ListTopUpsResponse> ListTopUps(ListTopUpsRequest request, ServerCallContext context)
    {
        var (page, next) = await balances.ListTopUpsAsync(request.AccountId, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListTopUpsResponse
        {
            TopUps =
            {
                page.Select(t => new TopUpRecord
                {
                    IdempotencyKey = t.IdempotencyKey, AmountFen = t.AmountFen, ToppedUpAt = Timestamp.FromDateTimeOffset(t.At),
                    BalanceAfterFen = t.BalanceAfterFen, ArrearsAfterFen = t.ArrearsAfterFen,
                }),
            },
            NextPageToken = next,
        };
    }

    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.BillingOperator, Roles.Service)]
    public override async Task<Reconciliation> GetReconciliation(GetReconciliationRequest request, ServerCallContext context)
    {
        var lines = await reconciliation.GetAsync(request.AccountId, Time(request.From, "from"), Time(request.To, "to"));
        return new Reconciliation
        {
            Rows =
            {
                lines.Select(l => new ReconciliationRow
                {
                    Label = l.Label, Period = l.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    MeteredBillable = l.MeteredBillable, PackageCalls = l.BilledPackage, PostpaidCalls = l.BilledPostpaid, Balanced = l.Balanced,
                    MeteredPackageCalls = l.MeteredPackage, MeteredPostpaidCalls = l.MeteredPostpaid,
                }),
            },
            Balanced = lines.All(l => l.Balanced),
            UnbalancedCells =
            {
                lines.SelectMany(l => l.UnbalancedCells).Select(c => new ReconciliationCell
                {
                    Period = c.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), Label = c.Label, SubAccountId = c.SubAccountId,
                    Kind = c.Kind switch
                    {
                        CounterKind.Package => ReconciliationKind.Package, CounterKind.Postpaid => ReconciliationKind.Postpaid,
                        CounterKind.NotBillable => ReconciliationKind.NotBillable, CounterKind.RefusedSuspended => ReconciliationKind.RefusedSuspended,
                        CounterKind.RefusedNotOpened => ReconciliationKind.RefusedNotOpened, CounterKind.RefusedNotVerified => ReconciliationKind.RefusedNotVerified,
                        var kind => throw new InvalidOperationException($"unknown reconciliation kind '{kind}'"),
                    }, MeteredCalls = c.Metered, BilledCalls = c.Billed,
                }),
            },
        };
    }

    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task ExportStatistics(ExportStatisticsRequest request, IServerStreamWriter<ExportChunk> responseStream, ServerCallContext context) =>
        await StreamAsync(await exports.StatisticsAsync(request.AccountId, Time(request.From, "from"), Time(request.To, "to"),
            Granularity(request.Granularity), request.ByAccessMode, request.BySubAccount, (Domain.ExportFormat)(int)request.Format), responseStream, context);

    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task ExportBills(ExportBillsRequest request, IServerStreamWriter<ExportChunk> responseStream, ServerCallContext context) =>
        await StreamAsync(await exports.BillsAsync(request.AccountId, Time(request.From, "from"), Time(request.To, "to"), (Domain.ExportFormat)(int)request.Format),
            responseStream, context);

    /// <summary>The header, then the file in chunks, written as it is read (the request was checked before the first message).</summary>
    private static async Task StreamAsync(ExportFile file, IServerStreamWriter<ExportChunk> stream, ServerCallContext context)
    {
        await stream.WriteAsync(new ExportChunk { Header = new ExportHeader { ContentType = file.ContentType, FileName = file.FileName } });
        await foreach (var chunk in file.ChunksAsync(context.CancellationToken))
            await stream.WriteAsync(new ExportChunk { Data = Google.Protobuf.ByteString.CopyFrom(chunk) });
    }

    private static DateTimeOffset? Time(Timestamp? t, string field)
    {
        if (t is null) return null;
        try
        {
            return t.ToDateTimeOffset();
        }
        catch (InvalidOperationException)
        {
            throw new InvalidInputException(field, "is not a valid timestamp");
        }
    }

    private static StatGranularity? Granularity(Contracts.Billing.V1.Granularity g) => g switch
    {
        Contracts.Billing.V1.Granularity.Day => StatGranularity.Day,
        Contracts.Billing.V1.Granularity.Month => StatGranularity.Month,
        Contracts.Billing.V1.Granularity.Unspecified => null,
        _ => throw new InvalidInputException("granularity", $"unknown value {(int)g}"),
    };

    private static Bill ToProto(IssuedBill issued)
    {
        var b = issued.Bill;
        return new Bill
        {
            BillId = b.BillId,
            AccountId = b.AccountId,
            Period = b.Period,
            PeriodStart = Timestamp.FromDateTimeOffset(b.PeriodStart),
            PeriodEnd = Timestamp.FromDateTimeOffset(b.PeriodEnd),
            Cycle = b.Cycle == Settlement.Daily ? ContractCycle.Daily : ContractCycle.Monthly,
            PriceBook = b.PriceBook,
            Lines =
            {
                b.Lines.Select(l => new BillLine
                {
                    Kind = (BillLineKind)(int)l.Kind, Label = l.Label, Calls = l.Calls, UnitPriceFen = l.UnitPriceFen, AmountFen = l.AmountFen,
                    Reference = l.Reference, Description = l.Description,
                }),
            },
            TotalFen = b.TotalFen,
            Status = issued.OutstandingFen > 0 ? BillStatus.InArrears : BillStatus.Paid,
            OutstandingFen = issued.OutstandingFen,
            IssuedAt = Timestamp.FromDateTimeOffset(b.IssuedAt),
        };
    }

    private static Balance ToProto(BalanceView v) => new()
    {
        AccountId = v.AccountId,
        BalanceFen = v.BalanceFen,
        ArrearsFen = v.ArrearsFen,
        Suspended = v.Suspended,
        ArrearsSince = v.ArrearsSince is { } since ? Timestamp.FromDateTimeOffset(since) : null,
        SuspendAt = v.SuspendAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
    };
}
