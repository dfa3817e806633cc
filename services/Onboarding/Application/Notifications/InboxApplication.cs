using FaceId.Common;

namespace FaceId.Onboarding.Application.Notifications;

/// <summary>The in-site inbox of a main account: list (all or unread, newest first, paged) and mark read.</summary>
public sealed class InboxApplication(AccountStore accounts, NotificationStore store)
{
    public const int MaxMarkIds = 500;

    public async Task<(InboxPage Page, string NextPageToken)> ListAsync(string accountId, bool unreadOnly, int pageSize, string pageToken)
    {
        new InputValidator().Id("account_id", accountId).ThrowIfInvalid();
        var (size, offset) = Paging.Parse(pageSize, pageToken);
        await RequireMainAccountAsync(accountId);
        var page = await store.ListAsync(accountId, unreadOnly, offset, size);
        return (page, offset + size < page.Total ? Paging.Encode(offset + size) : "");
    }

    /// <summary>Marks the given messages read (unknown ids and already read ones are no-ops); returns the unread count.</summary>
    public async Task<int> MarkReadAsync(string accountId, IReadOnlyList<string> messageIds)
    {
        var v = new InputValidator().Id("account_id", accountId)
            .Require(messageIds.Count is >= 1 and <= MaxMarkIds, "message_ids", $"must list 1 to {MaxMarkIds} message ids");
        for (var i = 0; i < Math.Min(messageIds.Count, MaxMarkIds); i++) v.Id($"message_ids[{i}]", messageIds[i]);
        v.ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        return await store.MarkReadAsync(accountId, messageIds);
    }

    private async Task RequireMainAccountAsync(string accountId)
    {
        var account = await accounts.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        if (account.MainAccountId is not null)
            throw new PreconditionFailedException("NOT_A_MAIN_ACCOUNT", accountId, "Notices go to the main account's inbox (R-ACC-1).");
    }
}
