using FaceId.Billing.Infrastructure;
using FaceId.Common;
using Microsoft.Extensions.Options;

namespace FaceId.Billing.Application;

/// <summary>An account's cash position (R-BIL-4).</summary>
public sealed record BalanceView(string AccountId, long BalanceFen, long ArrearsFen, bool Suspended, DateTimeOffset? ArrearsSince, DateTimeOffset? SuspendAt);

/// <summary>
/// Balance, top-ups and arrears (R-BIL-4): bills are paid from the balance when issued; what the
/// balance can't cover is arrears; arrears unpaid for 24 hours suspend the service
/// (ServiceSuspended, through the outbox, with the state change); paying them resumes it
/// (ServiceResumed).
/// </summary>
public sealed class BalanceService(BillingStore store, IOptions<BillingOptions> options, TimeProvider time, ILogger<BalanceService> logger)
{
    /// <summary>1 fen .. 100,000,000 CNY.</summary>
    public const long MaxTopUpFen = 10_000_000_000;
    private static readonly TimeSpan TopUpKeyRetention = TimeSpan.FromDays(400);

    public async Task<BalanceView> GetAsync(string accountId)
    {
        new InputValidator().Id("account_id", accountId).ThrowIfInvalid();
        var a = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        return View(accountId, a.BalanceFen, a.ArrearsFen, a.Suspended, a.ArrearsSince);
    }

    public async Task<BalanceView> TopUpAsync(string idempotencyKey, string accountId, long amountFen)
    {
        new InputValidator()
            .Id("idempotency_key", idempotencyKey)
            .Id("account_id", accountId)
            .Require(amountFen is >= 1 and <= MaxTopUpFen, "amount_fen", $"must be between 1 and {MaxTopUpFen} fen (100,000,000 CNY)")
            .ThrowIfInvalid();
        var outcome = await store.TopUpAsync(accountId, idempotencyKey, amountFen, time.GetUtcNow(), TopUpKeyRetention)
            ?? throw new NotFoundException("account", accountId);
        if (outcome.Duplicate) IdempotentRequest.ThrowIfDiffering("idempotency_key", ("amount_fen", outcome.AmountFen, amountFen));
        // A stale arrears index entry is left to the scheduler, which drops it when it finds no arrears.
        return View(accountId, outcome.BalanceFen, outcome.ArrearsFen, outcome.Suspended, outcome.ArrearsSince);
    }

    /// <summary>The account's top-ups, newest first, paged (page.page_size, page.page_token).</summary>
    public async Task<(IReadOnlyList<TopUpEntry> TopUps, string NextPageToken)> ListTopUpsAsync(string accountId, int pageSize, string pageToken)
    {
        var v = new InputValidator().Id("account_id", accountId);
        QueryRange.Page(v, pageSize, pageToken);
        v.ThrowIfInvalid();
        _ = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var (size, offset) = Paging.Parse(pageSize, pageToken);
        var (page, more) = await store.ListTopUpsAsync(accountId, offset, size);
        return (page, more ? Paging.Encode(offset + page.Count) : "");
    }

    /// <summary>The scheduler's pass: suspends accounts whose arrears are older than the grace time.</summary>
    public async Task<int> SuspendDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        var suspended = 0;
        foreach (var (accountId, score) in await store.DueForSuspensionAsync(now, take: 500))
        {
            if (ct.IsCancellationRequested) break;
            try
            {
                var (status, dueAt) = await store.SuspendIfDueAsync(accountId, now, options.Value.SuspendAfter);
                switch (status)
                {
                    case SuspendStatus.Later:
                        await store.SetArrearsDueAsync(accountId, dueAt!.Value);
                        break;
                    case SuspendStatus.Suspended:
                        suspended++;
                        logger.LogWarning("Suspended {Account}: arrears unpaid for {Hours} h (R-BIL-4)", accountId, options.Value.SuspendAfterHours);
                        await store.UnindexArrearsAsync(accountId, score);
                        break;
                    case SuspendStatus.Already or SuspendStatus.Clear:
                        await store.UnindexArrearsAsync(accountId, score);
                        break;
                    default:
                        throw new InvalidOperationException($"unknown suspension status {status} of {accountId}");
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Suspension check of {Account} failed; retried on the next pass", accountId);
            }
        }
        return suspended;
    }

    /// <summary>Safety net of the periodic sweep: an account in arrears and not suspended is (again) on the arrears index.</summary>
    public async Task ReindexIfInArrearsAsync(string accountId)
    {
        var a = await store.GetAccountAsync(accountId);
        if (a is { ArrearsFen: > 0, Suspended: false, ArrearsSince: { } since })
            await store.IndexForArrearsAsync(accountId, since + options.Value.SuspendAfter);
    }

    private BalanceView View(string accountId, long balance, long arrears, bool suspended, DateTimeOffset? since) =>
        new(accountId, balance, arrears, suspended, since, since + options.Value.SuspendAfter);
}
