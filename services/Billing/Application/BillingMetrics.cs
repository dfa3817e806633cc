using System.Diagnostics.Metrics;

namespace FaceId.Billing.Application;

/// <summary>
/// Billing's meter "FaceId.Billing" (exported by ServiceDefaults' OpenTelemetry "FaceId.*"):
/// reconciliation mismatches (R-BIL-3), bills issued, usage records applied.
/// </summary>
public sealed class BillingMetrics
{
    public const string MeterName = "FaceId.Billing";
    public const string MismatchesName = "faceid.billing.reconciliation.mismatches";

    private readonly Counter<long> _mismatches;
    private readonly Counter<long> _bills;
    private readonly Counter<long> _usage;

    public BillingMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _mismatches = Meter.CreateCounter<long>(MismatchesName, "{mismatch}",
            "(account, day, label, sub-account, kind) cells where the ledger's count differs from Billing's");
        _bills = Meter.CreateCounter<long>("faceid.billing.bills.issued", "{bill}", "Bills issued");
        _usage = Meter.CreateCounter<long>("faceid.billing.usage.records", "{record}", "Usage records received, by whether they were new or duplicates");
    }

    public Meter Meter { get; }

    public void Mismatch(string label, Domain.CounterKind kind) =>
        _mismatches.Add(1, new KeyValuePair<string, object?>("label", label), new KeyValuePair<string, object?>("kind", kind switch
        {
            Domain.CounterKind.Package => "package", Domain.CounterKind.Postpaid => "postpaid", Domain.CounterKind.NotBillable => "not_billable",
            Domain.CounterKind.RefusedSuspended => "refused_suspended", Domain.CounterKind.RefusedNotOpened => "refused_not_opened",
            _ => "refused_not_verified",
        }));

    public void BillIssued(bool inArrears) => _bills.Add(1, new KeyValuePair<string, object?>("in_arrears", inArrears));

    public void UsageApplied(long applied, long duplicates)
    {
        if (applied > 0) _usage.Add(applied, new KeyValuePair<string, object?>("duplicate", false));
        if (duplicates > 0) _usage.Add(duplicates, new KeyValuePair<string, object?>("duplicate", true));
    }
}
