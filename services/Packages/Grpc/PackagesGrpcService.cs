using FaceId.Common;
using FaceId.Contracts.Packages.V1;
using FaceId.Packages.Application;
using FaceId.Packages.Ledger;
using FaceId.Packages.Catalog;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = FaceId.Contracts.Packages.V1;
using FaceId.Auth;
using FaceId.ServiceDefaults.Security;
using Microsoft.AspNetCore.RateLimiting;

namespace FaceId.Packages.Grpc;

/// <summary>Maps messages to <see cref="PackagesApplication"/> and back; no rules here.</summary>
public sealed class PackagesGrpcService(PackagesApplication packages, TimeProvider time) : PackagesService.PackagesServiceBase
{
    [Allow(Roles.Gateway, Roles.Console, Roles.SubAccount, Roles.Reviewer, Roles.BillingOperator, Roles.Service)]
    public override Task<Proto.Catalog> GetCatalog(GetCatalogRequest request, ServerCallContext context) =>
        Task.FromResult(ToProto(packages.Catalog(request.PriceBook)));

    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<Proto.Package> PurchasePackage(PurchasePackageRequest request, ServerCallContext context) =>
        ToProto(await packages.PurchaseAsync(request.OrderId, request.AccountId, request.Label, request.Size));

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<Proto.Package> GetPackage(GetPackageRequest request, ServerCallContext context) =>
        ToProto(await packages.GetAsync(request.AccountId, request.PackageId));

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<ListPackagesResponse> ListPackages(ListPackagesRequest request, ServerCallContext context)
    {
        PackageState? state = request.Status switch
        {
            PackageStatus.Unspecified => null,
            PackageStatus.Active => PackageState.Active,
            PackageStatus.Exhausted => PackageState.Exhausted,
            PackageStatus.Expired => PackageState.Expired,
            PackageStatus.Refunding => PackageState.Refunding,
            PackageStatus.Refunded => PackageState.Refunded,
            _ => throw new InvalidInputException("status", $"unknown value {(int)request.Status}"),
        };
        var all = await packages.ListAsync(request.AccountId, request.Label, state);
        var (page, next) = Paging.Take(all, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListPackagesResponse { Packages = { page.Select(ToProto) }, NextPageToken = next };
    }

    [Allow(Roles.Console, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<GetBalancesResponse> GetBalances(GetBalancesRequest request, ServerCallContext context) => new()
    {
        Balances =
        {
            (await packages.BalancesAsync(request.AccountId))
                .Select(b => new LabelBalance { Label = b.Label, Remaining = b.Remaining, ActivePackages = b.ActivePackages }),
        },
    };

    private Proto.Package ToProto(PackageRecord p) => new()
    {
        PackageId = p.Id,
        AccountId = p.AccountId,
        Label = p.Label,
        Size = p.Size,
        Used = p.Used,
        Remaining = p.Remaining,
        PriceFen = p.PriceFen,
        Free = p.Free,
        PurchasedAt = Timestamp.FromDateTimeOffset(p.PurchasedAt),
        ValidFrom = Timestamp.FromDateTimeOffset(p.ValidFrom),
        ExpiresAt = Timestamp.FromDateTimeOffset(p.ExpiresAt),
        Status = ToProto(p.StateAt(time.GetUtcNow())),
        PriceBook = p.PriceBook,
        OrderId = p.OrderId,
        BackdatedCalls = p.Backdated,
    };

    /// <summary>A package state on the wire; an unknown state is a fault, never "refunded".</summary>
    public static PackageStatus ToProto(PackageState state) => state switch
    {
        PackageState.Active => PackageStatus.Active,
        PackageState.Exhausted => PackageStatus.Exhausted,
        PackageState.Expired => PackageStatus.Expired,
        PackageState.Refunding => PackageStatus.Refunding,
        PackageState.Refunded => PackageStatus.Refunded,
        _ => throw new InvalidOperationException($"unknown package state '{state}' from the ledger"),
    };

    private static Proto.Catalog ToProto(PriceBook book) => new()
    {
        PriceBook = book.Id,
        Version = book.Version,
        Labels =
        {
            book.Labels.Values.Select(l => new LabelInfo
            {
                Label = l.Id,
                DisplayName = l.Name,
                Trial = l.Trial,
                PostpaidUnitPriceFen = l.FlatUnitFen ?? 0,
                Tiers = { l.Tiers.Select(t => new Proto.PriceTier { MinCalls = t.MinCalls, UnitPriceFen = t.UnitFen ?? 0, ContractPrice = t.UnitFen is null }) },
                Packages = { l.Packages.Select(o => new Proto.PackageOffer { Size = o.Size, PriceFen = o.PriceFen }) },
            }),
        },
    };
}
