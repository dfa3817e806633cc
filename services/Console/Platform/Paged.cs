using FaceId.Common;
using FaceId.Contracts.Common.V1;

namespace FaceId.Console.Platform;

/// <summary>Every page of a list RPC, largest pages first asked (the console shows whole lists).</summary>
public static class Paged
{
    public static async Task<List<T>> AllAsync<T>(Func<PageRequest, Task<(IEnumerable<T> Items, string NextPageToken)>> page)
    {
        var all = new List<T>();
        var token = "";
        do
        {
            var (items, next) = await page(new PageRequest { PageSize = Paging.MaxPageSize, PageToken = token });
            all.AddRange(items);
            token = next;
        } while (token.Length > 0);
        return all;
    }
}
