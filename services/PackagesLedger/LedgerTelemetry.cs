using System.Diagnostics;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The ledger's spans (ActivitySource "FaceId.Ledger", docs/observability.md). Attributes are
/// low-cardinality only: labels (a fixed catalog list), counts and outcomes — never account ids,
/// request ids, package ids or anything personal.
/// </summary>
public static class LedgerTelemetry
{
    public const string Name = "FaceId.Ledger";
    public static readonly ActivitySource Source = new(Name);

    private static readonly AsyncLocal<IReadOnlyList<Activity?>?> CoalescedRequests = new();

    /// <summary>
    /// Declares that the charges started in this async flow also serve <paramref name="others"/>:
    /// requests of other traces whose records were coalesced into the same deduct.lua call (group
    /// commit). Their spans and the call's ledger.charge span then link to each other. Dispose to end.
    /// </summary>
    public static IDisposable? CoalescedWith(IReadOnlyList<Activity?> others)
    {
        if (others.Count == 0) return null;
        CoalescedRequests.Value = others;
        return new EndCoalescing();
    }

    private sealed class EndCoalescing : IDisposable
    {
        public void Dispose() => CoalescedRequests.Value = null;
    }

    /// <summary>
    /// Starts "ledger.charge" around one deduct.lua call. Started before the script's arguments are
    /// built, so the outbox entries it writes carry this span's context and the relay's publish
    /// span becomes its child.
    /// </summary>
    public static Activity? StartCharge(IReadOnlyList<ChargeRequest> records)
    {
        var others = CoalescedRequests.Value;
        var activity = others is null
            ? Source.StartActivity("ledger.charge")
            : Source.StartActivity("ledger.charge", ActivityKind.Internal, default(ActivityContext),
                links: others.Where(a => a is not null).Select(a => new ActivityLink(a!.Context)));
        if (activity is not { IsAllDataRequested: true }) return activity;
        if (others is not null)
        {
            // One call for several requests: each request's span links to it, it links to each of them.
            activity.SetTag("faceid.requests", others.Count + 1);
            foreach (var request in others) request?.AddLink(new ActivityLink(activity.Context));
        }
        activity.SetTag("db.system.name", "redis");
        activity.SetTag("db.operation.name", "EVALSHA");
        activity.SetTag("db.stored_procedure.name", DeductScript.Instance.Script.Name);
        activity.SetTag("faceid.records", records.Count);
        var label = records.Count > 0 ? records[0].Label : "";
        var single = true;
        for (var i = 1; i < records.Count && single; i++) single = records[i].Label == label;
        if (single) activity.SetTag("faceid.label", label);
        else activity.SetTag("faceid.label.count", records.Select(r => r.Label).Distinct().Count());
        return activity;
    }

    /// <summary>Adds the outcome counts of a finished charge to its span.</summary>
    public static void Charged(Activity? activity, IReadOnlyList<ChargeResult> results)
    {
        if (activity is not { IsAllDataRequested: true } || results.Count == 0) return;
        int package = 0, postpaid = 0, notBillable = 0, duplicate = 0, refused = 0;
        foreach (var r in results)
        {
            switch (r.Status)
            {
                case ChargeStatus.Duplicate: duplicate++; break;
                case var _ when r.Duplicate: duplicate++; break;
                case ChargeStatus.New when r.Outcome!.Kind == ChargeKind.Package: package++; break;
                case ChargeStatus.New when r.Outcome!.Kind == ChargeKind.Postpaid: postpaid++; break;
                case ChargeStatus.New: notBillable++; break;
                default: refused++; break;
            }
        }
        if (package > 0) activity.SetTag("faceid.outcome.package", package);
        if (postpaid > 0) activity.SetTag("faceid.outcome.postpaid", postpaid);
        if (notBillable > 0) activity.SetTag("faceid.outcome.not_billable", notBillable);
        if (duplicate > 0) activity.SetTag("faceid.outcome.duplicate", duplicate);
        if (refused > 0) activity.SetTag("faceid.outcome.refused", refused);
        var n = results.Count;
        activity.SetTag("faceid.outcome",
            package == n ? "package" : postpaid == n ? "postpaid" : notBillable == n ? "not_billable"
            : duplicate == n ? "duplicate" : refused == n ? "refused" : "mixed");
    }
}
