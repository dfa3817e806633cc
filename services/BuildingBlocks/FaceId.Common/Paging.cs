using System.Text;

namespace FaceId.Common;

/// <summary>Cursor paging over an ordered list: page_size 1..500 (0 = 50), opaque page tokens.</summary>
public static class Paging
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static (IReadOnlyList<T> Page, string NextToken) Take<T>(IReadOnlyList<T> items, int pageSize, string pageToken, string field = "page")
    {
        var (size, offset) = Parse(pageSize, pageToken, field);
        var page = items.Skip(offset).Take(size).ToList();
        var next = offset + page.Count < items.Count ? Encode(offset + page.Count) : "";
        return (page, next);
    }

    public static (int Size, int Offset) Parse(int pageSize, string pageToken, string field = "page")
    {
        var v = new InputValidator();
        v.Require(pageSize is >= 0 and <= MaxPageSize, field + ".page_size", $"must be between 1 and {MaxPageSize} (0 = {DefaultPageSize})");
        var offset = 0;
        if (!string.IsNullOrEmpty(pageToken) && !TryDecode(pageToken, out offset))
            v.Add(field + ".page_token", "is not a token returned by this method");
        v.ThrowIfInvalid();
        return (pageSize == 0 ? DefaultPageSize : pageSize, offset);
    }

    public static string Encode(int offset) => Convert.ToBase64String(Encoding.ASCII.GetBytes("o:" + offset));

    private static bool TryDecode(string token, out int offset)
    {
        offset = 0;
        try
        {
            var s = Encoding.ASCII.GetString(Convert.FromBase64String(token));
            return s.StartsWith("o:", StringComparison.Ordinal) && int.TryParse(s.AsSpan(2), out offset) && offset >= 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
