using FaceId.Common;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Packages.Ledger;
using FaceId.Packages.Catalog;

namespace FaceId.Packages.Application;

/// <summary>Packages' subscriptions: accounts, activation, enterprise verification, merchant ids and arrears (docs/events.md).</summary>
public sealed class AccountCreatedHandler(PackageLedger ledger) : IEventHandler<AccountCreated>
{
    public Task HandleAsync(AccountCreated e, EventContext context, CancellationToken ct) =>
        ledger.RegisterAccountAsync(e.AccountId, e.MainAccountId);
}

/// <summary>Opens the service in the ledger's view, then grants the trial (both idempotent).</summary>
public sealed class ServiceActivatedHandler(PackageLedger ledger, FreeGrants grants) : IEventHandler<ServiceActivated>
{
    public async Task HandleAsync(ServiceActivated e, EventContext context, CancellationToken ct)
    {
        var activatedAt = e.ActivatedAt.ToDateTimeOffset();
        var cycle = e.SettlementCycle == Contracts.Common.V1.SettlementCycle.Daily ? Settlement.Daily : Settlement.Monthly;
        await ledger.OpenServiceAsync(e.AccountId, activatedAt, e.PriceBook, cycle);
        await grants.GrantTrialAsync(e.AccountId, activatedAt);
    }
}

/// <summary>R-ONB-4: from Onboarding's verification, the account may buy E证通 packages and meter E证通 calls.</summary>
public sealed class EnterpriseVerifiedHandler(PackageLedger ledger) : IEventHandler<EnterpriseVerified>
{
    public Task HandleAsync(EnterpriseVerified e, EventContext context, CancellationToken ct) =>
        ledger.SetEnterpriseVerifiedAsync(e.AccountId, e.VerifiedAt.ToDateTimeOffset());
}

public sealed class MerchantIdIssuedHandler(FreeGrants grants) : IEventHandler<MerchantIdIssued>
{
    public Task HandleAsync(MerchantIdIssued e, EventContext context, CancellationToken ct) =>
        grants.GrantEidAsync(e.AccountId, e.IssuedAt.ToDateTimeOffset());
}

/// <summary>Arrears (R-BIL-4): from Billing's events, metering refuses the account's calls until resumed.</summary>
public sealed class ServiceSuspendedHandler(PackageLedger ledger) : IEventHandler<ServiceSuspended>
{
    public Task HandleAsync(ServiceSuspended e, EventContext context, CancellationToken ct) =>
        ledger.SetSuspendedAsync(e.AccountId, suspended: true, e.SuspendedAt.ToDateTimeOffset());
}

public sealed class ServiceResumedHandler(PackageLedger ledger) : IEventHandler<ServiceResumed>
{
    public Task HandleAsync(ServiceResumed e, EventContext context, CancellationToken ct) =>
        ledger.SetSuspendedAsync(e.AccountId, suspended: false, e.ResumedAt.ToDateTimeOffset());
}
