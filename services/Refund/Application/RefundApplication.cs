using System.Globalization;
using System.Security.Cryptography;
using FaceId.Common;
using FaceId.Packages.Ledger;
using Microsoft.Extensions.Options;

namespace FaceId.Refund.Application;

/// <summary>
/// 7-day no-reason refunds of unused purchased packages (docs/rules.md §7). The decision is one
/// atomic step on the package (RefundLedger.FreezeAsync, freeze-for-refund.lua) that races
/// metering's deduction (R-REF-1, R-REF-2); the credit is another (RefundLedger.CompleteAsync,
/// complete-refund.lua) that happens once and writes RefundCompleted to the account's outbox
/// (R-REF-3). A refund frozen but not yet credited is in <see cref="PendingRefunds"/>, so a
/// crash between the two steps is finished by <see cref="RefundCompletionWorker"/>.
/// </summary>
/// <remarks>
/// Packages live in their main account's Redis slot, so a package of another account is simply
/// not found (NOT_FOUND). Who may act for an account is not checked here yet: caller
/// authentication and authorization come with the platform's security work (docs/api.md).
/// </remarks>
public sealed class RefundApplication(
    PackageReader packages,
    RefundLedger ledger,
    RefundStore store,
    PendingRefunds pending,
    IOptions<RefundOptions> options,
    TimeProvider time)
{
    public const string ReasonFree = "REFUND_PACKAGE_FREE";
    public const string ReasonUsed = "REFUND_PACKAGE_USED";
    public const string ReasonWindowClosed = "REFUND_WINDOW_CLOSED";
    public const string ReasonAlreadyRequested = "REFUND_ALREADY_REQUESTED";
    public const string ReasonNotFound = "REFUND_PACKAGE_NOT_FOUND";

    /// <summary>
    /// Requests the refund of a package, idempotently on <paramref name="idempotencyKey"/>: the
    /// first call decides (accepted and, by default, credited at once; or refused with
    /// FAILED_PRECONDITION and a reason), every retry with the key returns that same outcome.
    /// </summary>
    public async Task<RefundRecord> RequestRefundAsync(string idempotencyKey, string accountId, string packageId)
    {
        new InputValidator()
            .Id("idempotency_key", idempotencyKey)
            .Id("account_id", accountId)
            .Id("package_id", packageId)
            .ThrowIfInvalid();
        var package = await packages.GetPackageAsync(accountId, packageId) ?? throw new NotFoundException("package", packageId);

        var refundId = NewRefundId();
        var now = time.GetUtcNow();
        var requested = new RefundTransition(RefundState.Requested, now, "refund requested by the account");
        // Pointer before data: if we die right after the freeze, the worker finds the refund from here.
        await pending.AddAsync(accountId, refundId, now);
        var freeze = await ledger.FreezeAsync(accountId, packageId, idempotencyKey, refundId, package.PurchasedAt, requested,
            new RefundTransition(RefundState.Approved, now, "package frozen: no call can be charged to it any more (R-REF-2)"));

        if (freeze.Accepted && !freeze.Duplicate)
        {
            if (options.Value.CompleteInline) await CompleteAsync(accountId, freeze.RefundId);
            return await LoadAsync(accountId, freeze.RefundId);
        }

        // Nothing was frozen under our new id: its pending entry has no refund behind it.
        if (freeze.Duplicate)
        {
            await pending.RemoveAsync(accountId, refundId);
            return await AnswerRetryAsync(accountId, freeze.RefundId, packageId);
        }
        if (freeze.RefusalReason == ReasonNotFound)
        {
            await pending.RemoveAsync(accountId, refundId);
            throw new NotFoundException("package", packageId);
        }

        var reason = freeze.RefusalReason!;
        var description = Describe(reason, package, freeze.RefundId);
        var keyOwner = await store.RecordRejectionAsync(accountId, idempotencyKey, refundId, package, now, reason, requested,
            new RefundTransition(RefundState.Rejected, now, description));
        await pending.RemoveAsync(accountId, refundId);
        // A concurrent request with the same key got there first: answer as it did.
        if (keyOwner != refundId) return await AnswerRetryAsync(accountId, keyOwner, packageId);
        throw new PreconditionFailedException(reason, "package_id", description);
    }

    public async Task<RefundRecord> GetRefundAsync(string accountId, string refundId)
    {
        new InputValidator().Id("account_id", accountId).Id("refund_id", refundId).ThrowIfInvalid();
        return await store.GetAsync(accountId, refundId) ?? throw new NotFoundException("refund", refundId);
    }

    /// <summary>The account's refunds, oldest request first, paged (page.page_size, page.page_token).</summary>
    public async Task<(IReadOnlyList<RefundRecord> Refunds, string NextPageToken)> ListRefundsAsync(string accountId, int pageSize, string pageToken)
    {
        var v = new InputValidator().Id("account_id", accountId);
        var (size, offset) = ParsePage(v, pageSize, pageToken);
        v.ThrowIfInvalid();
        var (page, more) = await store.ListAsync(accountId, offset, size);
        return (page, more ? Paging.Encode(offset + size) : "");
    }

    /// <summary>
    /// Whether each package of the account (or only <paramref name="packageId"/>, when given) may be
    /// refunded now, in ListPackages' order, paged: the refusal <see cref="RequestRefundAsync"/> would
    /// give, decided by the freeze's own rule (RefundLedger.EligibilityAsync). Read-only; the freeze
    /// decides again, atomically, when a refund is requested (R-REF-2).
    /// </summary>
    public async Task<(IReadOnlyList<RefundEligibilityRecord> Packages, string NextPageToken)> ListEligibilityAsync(
        string accountId, string packageId, int pageSize, string pageToken)
    {
        var v = new InputValidator().Id("account_id", accountId);
        if (packageId.Length > 0) v.Id("package_id", packageId);
        var (size, offset) = ParsePage(v, pageSize, pageToken);
        v.ThrowIfInvalid();
        IReadOnlyList<PackageRecord> all = packageId.Length > 0
            ? [await packages.GetPackageAsync(accountId, packageId) ?? throw new NotFoundException("package", packageId)]
            : await packages.ListPackagesAsync(accountId);
        var page = all.Skip(offset).Take(size).ToList();
        var verdicts = await ledger.EligibilityAsync(accountId, page);
        var answers = page.Zip(verdicts).Where(x => !x.Second.Missing).Select(x => new RefundEligibilityRecord(
            x.First, x.Second.Refusal, x.Second.Refusal is { } reason ? Describe(reason, x.First, x.Second.RefundId) : "",
            x.Second.RefundId, x.First.Free ? null : RefundLedger.RefundDeadline(x.First.PurchasedAt))).ToList();
        return (answers, offset + page.Count < all.Count ? Paging.Encode(offset + page.Count) : "");
    }

    /// <summary>page.page_size and page.page_token, their violations added to <paramref name="v"/> with the others.</summary>
    private static (int Size, int Offset) ParsePage(InputValidator v, int pageSize, string pageToken)
    {
        try
        {
            return Paging.Parse(pageSize, pageToken);
        }
        catch (InvalidInputException e)
        {
            foreach (var f in e.Violations) v.Add(f.Field, f.Description);
            return (0, 0);
        }
    }

    /// <summary>
    /// Credits an approved refund (once, whoever calls and however often: complete-refund.lua) and
    /// drops its pending entry. Used inline by <see cref="RequestRefundAsync"/> and by the worker.
    /// </summary>
    public async Task<CompletionOutcome> CompleteAsync(string accountId, string refundId)
    {
        var refund = await store.GetAsync(accountId, refundId);
        var outcome = refund?.State switch
        {
            null => CompletionOutcome.Missing,
            RefundState.Credited => CompletionOutcome.AlreadyCredited,
            RefundState.Rejected => CompletionOutcome.Rejected,
            RefundState.Requested or RefundState.Approved => await CreditAsync(refund),
            var state => throw new InvalidOperationException($"Refund {refundId} has unknown state '{state}'."),
        };
        await pending.RemoveAsync(accountId, refundId);
        return outcome;
    }

    private Task<CompletionOutcome> CreditAsync(RefundRecord refund)
    {
        var note = $"{Cny.FromFen(refund.AmountFen)} CNY ({refund.AmountFen} fen) credited to the account's balance; package refunded (R-REF-3)";
        return ledger.CompleteAsync(refund.AccountId, refund.Id, refund.PackageId, refund.AmountFen, note);
    }

    /// <summary>The answer to a retry: the refund the key already stands for, finished if it still needs its credit.</summary>
    private async Task<RefundRecord> AnswerRetryAsync(string accountId, string refundId, string packageId)
    {
        var refund = await LoadAsync(accountId, refundId);
        IdempotentRequest.ThrowIfDiffering("idempotency_key", ("package_id", refund.PackageId, packageId));
        switch (refund.State)
        {
            case RefundState.Rejected:
                throw new PreconditionFailedException(refund.RejectionReason, "package_id", refund.History[^1].Note);
            case RefundState.Approved when options.Value.CompleteInline:
                await CompleteAsync(accountId, refundId);
                return await LoadAsync(accountId, refundId);
            default:
                return refund;
        }
    }

    private async Task<RefundRecord> LoadAsync(string accountId, string refundId) =>
        await store.GetAsync(accountId, refundId)
        ?? throw new InvalidOperationException($"Refund {refundId} of {accountId} vanished after it was written.");

    private static string Describe(string reason, PackageRecord package, string existingRefundId) => reason switch
    {
        ReasonFree => $"Package {package.Id} is a free package; only purchased packages can be refunded (R-REF-1).",
        ReasonUsed => $"Package {package.Id} has been used (a call was deducted from it or backdated onto it); only never-used packages can be refunded (R-REF-1, R-REF-2).",
        ReasonWindowClosed =>
            $"The no-reason refund window of package {package.Id} (bought {Shanghai(package.PurchasedAt)}) closed at " +
            $"{Shanghai(RefundLedger.RefundDeadline(package.PurchasedAt).AddMilliseconds(-1))} Asia/Shanghai, the end of the 7th day after its purchase day (R-REF-1).",
        ReasonAlreadyRequested => $"Package {package.Id} already has refund {existingRefundId}; a package is refunded at most once.",
        _ => throw new InvalidOperationException($"unknown refund refusal reason '{reason}'"),
    };

    private static string Shanghai(DateTimeOffset t) => t.ToOffset(ChinaCalendar.Offset).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);


    private static string NewRefundId() => "ref_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
}
