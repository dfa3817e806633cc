using System.CommandLine;
using FaceId.Contracts.Common.V1;

namespace FaceId.Cli.Commands;

/// <summary>Options shared by several commands, and paging through List RPCs.</summary>
public static class Common
{
    public static Option<string> Account(string description = "Account id (the main account for packages, bills and refunds)") => new("--account")
    {
        Description = description,
        Required = true,
        HelpName = "id",
    };

    public static Option<string> Key(string description) => new("--key", "--idempotency-key")
    {
        Description = description + " (default: a new faceidctl-<uuid>; pass the same key to retry safely)",
        HelpName = "key",
    };

    public static Option<int> PageSize() => new("--page-size")
    {
        Description = "Items per request while listing every page (1..500)",
        DefaultValueFactory = _ => 100,
        Validators =
        {
            r =>
            {
                if (r.GetValueOrDefault<int>() is < 1 or > 500) r.AddError("--page-size must be 1..500.");
            },
        },
    };

    public static Option<int?> Limit() => new("--limit")
    {
        Description = "Stop after this many items (default: all pages)",
        Validators =
        {
            r =>
            {
                if (r.GetValueOrDefault<int?>() is < 1) r.AddError("--limit must be at least 1.");
            },
        },
    };

    /// <summary>Follows <c>next_page_token</c> until the last page or <paramref name="limit"/> items.</summary>
    public static async Task<List<T>> AllPagesAsync<TResponse, T>(
        Func<PageRequest, Task<TResponse>> call, Func<TResponse, IEnumerable<T>> items, Func<TResponse, string> next, int pageSize, int? limit)
    {
        var all = new List<T>();
        var token = "";
        do
        {
            var size = limit is { } l ? Math.Min(pageSize, l - all.Count) : pageSize;
            var response = await call(new PageRequest { PageSize = size, PageToken = token });
            all.AddRange(items(response));
            token = next(response);
        }
        while (token.Length > 0 && (limit is null || all.Count < limit));
        return limit is { } max && all.Count > max ? all[..max] : all;
    }
}
