using FaceId.Common;
using FaceId.Packages.Ledger;
using FaceId.Packages.Catalog;

namespace FaceId.Metering.Application;

/// <summary>
/// The hot path (docs/rules.md §4): validates records, finds who pays and under which label
/// (R-ACC-1, §5.2), decides billable by return code (R-MET-2), then charges each main account's
/// records in one atomic ledger call (R-PKG-3, R-PKG-5).
/// </summary>
public sealed class MeteringApplication(UsageRecordValidator validator, AccountDirectory accounts, ProductCatalog catalog, UsageCharges ledger)
{
    /// <summary>Concurrent small requests of one main account share a deduct.lua call (docs/benchmarks.md).</summary>
    private readonly ChargeCoalescer _charges = new(ledger);

    /// <summary>
    /// One record; bad input is returned as a refusal, not thrown (<see cref="Refusable{T}"/>: why). An E证通 call of an
    /// account not enterprise-verified is refused as FAILED_PRECONDITION (R-ONB-4), and so is a request id already kept for
    /// another call (IDEMPOTENCY_KEY_REUSED naming the differing fields); in a batch, that record's outcome says so.
    /// </summary>
    public async Task<Refusable<UsageResult>> RecordAsync(UsageInput record)
    {
        var v = new InputValidator();
        validator.Validate(record, v, "record.");
        if (v.Refusal() is { } invalid) return invalid;
        var charged = await ChargeAsync([record], single: true);
        if (charged.Refusal is { } refusal) return refusal;
        var result = charged.Value![0];
        return result.Refusal switch
        {
            RefusalReason.EnterpriseNotVerified => EnterpriseOnly.NotVerified(result.ChargedAccountId),
            RefusalReason.IdempotencyKeyReused => new IdempotencyKeyReusedException("request_id", result.DifferingFields!),
            _ => result,
        };
    }

    public async Task<IReadOnlyList<UsageResult>> RecordBatchAsync(IReadOnlyList<UsageInput> records)
    {
        validator.ValidateBatch(records);
        var charged = await ChargeAsync(records, single: false);
        return charged.Value ?? throw charged.Refusal!;
    }

    public async Task<UsageResult> GetAsync(string accountId, string requestId)
    {
        new InputValidator().Id("account_id", accountId).Id("request_id", requestId).ThrowIfInvalid();
        var payer = await accounts.ResolveAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var kept = await ledger.GetChargeAsync(payer.MainAccountId, requestId) ?? throw new NotFoundException("usage record", requestId);
        return ToResult(requestId, payer.MainAccountId, kept);
    }

    private async Task<Refusable<IReadOnlyList<UsageResult>>> ChargeAsync(IReadOnlyList<UsageInput> records, bool single)
    {
        MeteringTelemetry.BatchSize.Record(records.Count);
        var results = new UsageResult[records.Count];
        // Resolve payers and labels first: a bad label anywhere rejects the whole request unchanged.
        var pending = new List<(int Index, PayingAccount Payer, ChargeRequest Request)>(records.Count);
        var violations = new InputValidator();
        ResolvedLabel? lastLabel = null;
        (string Label, string Channel, Contracts.Common.V1.ComparisonLibrary Library, string PriceBook) lastInput = default;
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            var payer = await accounts.ResolveAsync(r.AccountId);
            if (payer is null)
            {
                results[i] = UsageResult.Refused(r.RequestId, r.AccountId, RefusalReason.UnknownAccount);
                continue;
            }
            if (payer.PriceBook is null)
            {
                results[i] = UsageResult.Refused(r.RequestId, payer.MainAccountId, RefusalReason.ServiceNotOpened);
                continue;
            }
            // A batch's records mostly name one label: the previous record's answer is reused.
            var resolved = lastLabel is not null && r.Label == lastInput.Label && r.Channel == lastInput.Channel && r.Library == lastInput.Library
                && ReferenceEquals(payer.PriceBook, lastInput.PriceBook)
                ? lastLabel
                : catalog.TryResolveLabel(payer.PriceBook, r.Label, r.Channel, r.Library, "");
            if (resolved.Refusal is InvalidInputException e)
            {
                // The field path is built only for a violation, not for every record.
                var prefix = single ? "record." : $"records[{i}].";
                foreach (var f in e.Violations) violations.Add(prefix + f.Field, f.Description);
                continue;
            }
            if (resolved.Refusal is { } refusal) return refusal;
            var label = resolved.Value!;
            (lastLabel, lastInput) = (label, (r.Label, r.Channel, r.Library, payer.PriceBook));
            pending.Add((i, payer, new ChargeRequest(r.RequestId, label.Label, r.OccurredAt!.Value,
                catalog.IsBillable(label.CodeSet, r.ReturnCode), payer.SubAccountId ?? "", ProtoName(r.AccessMode), r.ReturnCode,
                ProductCatalog.IsEnterpriseOnly(label.Label))));
        }
        if (violations.Refusal() is { } invalid) return invalid;

        // One script call per main account; accounts run concurrently on the multiplexed connection.
        // Most requests are of one main account: no grouping then.
        if (pending.Count > 0 && pending.TrueForAll(p => p.Payer.MainAccountId == pending[0].Payer.MainAccountId))
            await ChargeAccountAsync(pending[0].Payer.MainAccountId, pending, results);
        else
            await Task.WhenAll(pending.GroupBy(p => p.Payer.MainAccountId).Select(group => ChargeAccountAsync(group.Key, group.ToList(), results)));
        MeteringTelemetry.Metered(results);
        return results;
    }

    private async Task ChargeAccountAsync(string mainAccountId, List<(int Index, PayingAccount Payer, ChargeRequest Request)> items, UsageResult[] results)
    {
        var requests = new ChargeRequest[items.Count];
        for (var k = 0; k < items.Count; k++) requests[k] = items[k].Request;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var charged = await _charges.ChargeAsync(mainAccountId, requests);
        MeteringTelemetry.Deducted(started);
        for (var k = 0; k < items.Count; k++)
            results[items[k].Index] = ToResult(items[k].Request.RequestId, mainAccountId, charged[k]);
    }

    private static readonly Google.Protobuf.Reflection.EnumDescriptor AccessModes =
        FaceId.Contracts.Common.V1.CommonReflection.Descriptor.EnumTypes.Single(e => e.Name == "AccessMode");

    /// <summary>The enum value's protobuf JSON name, as the UsageCharged event carries it.</summary>
    private static string ProtoName(FaceId.Contracts.Common.V1.AccessMode mode) => AccessModes.FindValueByNumber((int)mode).Name;

    /// <summary>The ledger's charge as a usage result; an unknown charge status is a fault, never a refusal.</summary>
    public static UsageResult ToResult(string requestId, string mainAccountId, ChargeResult charge) => charge.Status switch
    {
        ChargeStatus.New => ToResult(requestId, mainAccountId, charge.Outcome!, duplicate: false),
        ChargeStatus.Duplicate => ToResult(requestId, mainAccountId, charge.Outcome!, duplicate: true),
        ChargeStatus.KeyReused => UsageResult.Refused(requestId, mainAccountId, RefusalReason.IdempotencyKeyReused, charge.DifferingFields),
        ChargeStatus.UnknownAccount => UsageResult.Refused(requestId, mainAccountId, RefusalReason.UnknownAccount),
        // A kept refusal's retry is answered the same refusal, marked a duplicate (charge.Duplicate).
        ChargeStatus.NotOpened => UsageResult.Refused(requestId, mainAccountId, RefusalReason.ServiceNotOpened) with { Duplicate = charge.Duplicate },
        ChargeStatus.Suspended => UsageResult.Refused(requestId, mainAccountId, RefusalReason.ServiceSuspended) with { Duplicate = charge.Duplicate },
        ChargeStatus.EnterpriseNotVerified => UsageResult.Refused(requestId, mainAccountId, RefusalReason.EnterpriseNotVerified) with { Duplicate = charge.Duplicate },
        var status => throw new InvalidOperationException($"unknown charge status '{status}' from the ledger for request {requestId}"),
    };

    private static UsageResult ToResult(string requestId, string mainAccountId, ChargeOutcome o, bool duplicate) =>
        new(requestId, o.Kind switch
            {
                ChargeKind.Package => UsageKind.Package,
                ChargeKind.Postpaid => UsageKind.Postpaid,
                ChargeKind.NotBillable => UsageKind.NotBillable,
                var kind => throw new InvalidOperationException($"unknown charge kind '{kind}' from the ledger for request {requestId}"),
            },
            duplicate, o.Label, o.PackageId, o.PackageRemaining, mainAccountId, RefusalReason.None, o.PriceBook);
}
