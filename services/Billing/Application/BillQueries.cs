using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Common;

namespace FaceId.Billing.Application;

/// <summary>Reading bills: one by id, or the account's bills newest first (paged).</summary>
public sealed class BillQueries(BillingStore store)
{
    public async Task<IssuedBill> GetAsync(string accountId, string billId)
    {
        new InputValidator().Id("account_id", accountId).Id("bill_id", billId).ThrowIfInvalid();
        var account = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var period = BillingPeriod.FromBillId(account.Cycle, billId) ?? throw new NotFoundException("bill", billId);
        return await store.GetBillAsync(accountId, period.Key) ?? throw new NotFoundException("bill", billId);
    }

    public async Task<(IReadOnlyList<IssuedBill> Bills, string NextPageToken)> ListAsync(string accountId, int pageSize, string pageToken)
    {
        var v = new InputValidator().Id("account_id", accountId);
        QueryRange.Page(v, pageSize, pageToken);
        v.ThrowIfInvalid();
        _ = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var (page, next) = Paging.Take(await store.ListBillPeriodsAsync(accountId), pageSize, pageToken);
        var bills = await Task.WhenAll(page.Select(p => store.GetBillAsync(accountId, p)));
        return (bills.OfType<IssuedBill>().ToList(), next);
    }
}
