using System.Collections.Concurrent;
using FaceId.Packages.Ledger;

namespace FaceId.Metering.Application;

/// <summary>Who pays for a call and under which price book.</summary>
public sealed record PayingAccount(string MainAccountId, string? SubAccountId, string? PriceBook);

/// <summary>
/// Resolves the calling account to its paying main account (R-ACC-1) and price book. Both facts
/// never change once known (a sub-account's owner is fixed, an activation's price book is for
/// good), so they are cached forever; unknown or unopened accounts are read again every time.
/// </summary>
public sealed class AccountDirectory(PackageReader ledger)
{
    private readonly ConcurrentDictionary<string, string> _mainOfSub = new();
    private readonly ConcurrentDictionary<string, string> _priceBookOfMain = new();
    /// <summary>Accounts whose payer is settled (an opened main account or its sub-account): one look-up, no allocation per record.</summary>
    private readonly ConcurrentDictionary<string, PayingAccount> _settled = new(StringComparer.Ordinal);

    /// <summary>Null when the account is unknown to the ledger.</summary>
    public ValueTask<PayingAccount?> ResolveAsync(string accountId) =>
        _settled.TryGetValue(accountId, out var payer) ? ValueTask.FromResult<PayingAccount?>(payer) : LookUpAsync(accountId);

    private async ValueTask<PayingAccount?> LookUpAsync(string accountId)
    {
        string? sub = null;
        var main = accountId;
        if (_mainOfSub.TryGetValue(accountId, out var cachedMain))
        {
            (sub, main) = (accountId, cachedMain);
        }
        else if (!_priceBookOfMain.ContainsKey(accountId))
        {
            var view = await ledger.GetServiceAsync(accountId);
            if (view is null) return null;
            if (view.IsSubAccount)
            {
                _mainOfSub[accountId] = view.MainAccountId!;
                (sub, main) = (accountId, view.MainAccountId!);
            }
            else if (view.PriceBook is not null)
            {
                _priceBookOfMain[accountId] = view.PriceBook;
            }
        }
        if (!_priceBookOfMain.TryGetValue(main, out var book))
        {
            var mainView = await ledger.GetServiceAsync(main);
            if (mainView?.PriceBook is { } pb) _priceBookOfMain[main] = book = pb;
        }
        var payer = new PayingAccount(main, sub, book);
        if (book is not null) _settled[accountId] = payer;
        return payer;
    }
}
