using System.Collections.Concurrent;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.ServiceDefaults.Security;

/// <summary>
/// Whether an account-bound caller may touch an account: its own, or one of its sub-accounts.
/// A sub-account's owner never changes, so answers are cached; the owner is read from the
/// ledger's view of accounts (<c>{acct:X}:svc</c> field <c>main</c>, written from AccountCreated).
/// </summary>
public sealed class AccountOwnership(IDatabase redis)
{
    private readonly ConcurrentDictionary<string, string> _mainOf = new();

    public async ValueTask<bool> OwnsAsync(string callerAccount, string target)
    {
        if (target == callerAccount) return true;
        if (!_mainOf.TryGetValue(target, out var main))
        {
            var value = await redis.HashGetAsync(RedisKeys.ForAccount(target, "svc"), "main");
            if (value.IsNullOrEmpty) return false;
            main = _mainOf.GetOrAdd(target, (string)value!);
        }
        return main == callerAccount;
    }
}
