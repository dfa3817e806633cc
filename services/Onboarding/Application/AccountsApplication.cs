using System.Text.RegularExpressions;
using FaceId.Common;

namespace FaceId.Onboarding.Application;

/// <summary>Main accounts, sub-accounts and contacts (R-ACC-1).</summary>
public sealed partial class AccountsApplication(AccountStore store)
{
    public async Task<AccountRecord> CreateAsync(string idempotencyKey, string displayName, ContactInfo contacts)
    {
        var v = new InputValidator().Id("idempotency_key", idempotencyKey).Text("display_name", displayName, FieldLimits.PersonOrDisplayName);
        ValidateContacts(contacts, v, "contacts.", required: false);
        v.ThrowIfInvalid();
        var id = await store.CreateMainAccountAsync(idempotencyKey, displayName, contacts);
        return await GetAsync(id);
    }

    public async Task<AccountRecord> CreateSubAsync(string idempotencyKey, string mainAccountId, string displayName)
    {
        new InputValidator().Id("idempotency_key", idempotencyKey).Id("main_account_id", mainAccountId).Text("display_name", displayName, FieldLimits.PersonOrDisplayName).ThrowIfInvalid();
        var main = await GetAsync(mainAccountId, "main_account_id");
        if (main.MainAccountId is not null)
            throw new PreconditionFailedException("NOT_A_MAIN_ACCOUNT", mainAccountId, "A sub-account cannot own sub-accounts (R-ACC-1).");
        var id = await store.CreateSubAccountAsync(idempotencyKey, mainAccountId, displayName);
        return await GetAsync(id);
    }

    public async Task<AccountRecord> GetAsync(string accountId, string field = "account_id")
    {
        new InputValidator().Id(field, accountId).ThrowIfInvalid();
        return await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
    }

    public async Task<IReadOnlyList<AccountRecord>> ListSubAccountsAsync(string mainAccountId)
    {
        await GetAsync(mainAccountId, "main_account_id");
        var ids = await store.ListSubAccountIdsAsync(mainAccountId);
        var accounts = await Task.WhenAll(ids.Select(id => store.GetAccountAsync(id)));
        return accounts.OfType<AccountRecord>().ToList();
    }

    public async Task<AccountRecord> UpdateContactsAsync(string accountId, ContactInfo contacts)
    {
        var v = new InputValidator().Id("account_id", accountId);
        ValidateContacts(contacts, v, "contacts.", required: true);
        v.ThrowIfInvalid();
        var account = await GetAsync(accountId);
        if (account.MainAccountId is not null)
            throw new PreconditionFailedException("NOT_A_MAIN_ACCOUNT", accountId, "Contacts belong to the main account.");
        await store.UpdateContactsAsync(accountId, contacts);
        return await GetAsync(accountId);
    }

    /// <summary>Email and mainland mobile formats; empty values allowed unless required.</summary>
    public static void ValidateContacts(ContactInfo c, InputValidator v, string prefix, bool required)
    {
        if (required || c.Email.Length > 0)
            v.Require(c.Email.Length <= FieldLimits.Email && EmailPattern().IsMatch(c.Email), prefix + "email", "must be an email address");
        if (required || c.Mobile.Length > 0)
            v.Require(MobilePattern().IsMatch(c.Mobile), prefix + "mobile", "must be an 11-digit mainland mobile number starting with 1");
        v.Text(prefix + "name", c.Name, FieldLimits.PersonOrDisplayName, required);
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^1[3-9][0-9]{9}$")]
    private static partial Regex MobilePattern();
}
