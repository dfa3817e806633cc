using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FaceId.TestKit;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>
/// The HTTP/JSON routes get the gRPC methods' string bounds (docs/api.md, "Bounded requests and errors"):
/// an over-long value in a route segment or a body field is 400 INVALID_ARGUMENT naming the field, and no
/// error answer — those of the HTTP layer's own checks included — grows with the caller's input.
/// </summary>
[Collection(HttpPlatformCollection.Name)]
public sealed partial class BoundsTests(HttpPlatform platform)
{
    private const int MaxErrorBytes = 4096;
    private static readonly string Huge = new('x', 100 * 1024);

    public static TheoryData<string> Cases => [.. ConsoleMethods.All.Select(c => c.ToString())];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task An_over_long_route_segment_or_body_field_is_400_INVALID_ARGUMENT_naming_it_with_a_small_answer(string name)
    {
        var c = ConsoleMethods.All.Single(x => x.ToString() == name);
        var account = await platform.AccountAsync();
        var happy = c.Happy(account);
        var checkedFields = 0;
        if (c.AccountScoped)
        {
            // 4000 characters: within the HTTP/1.1 request line Kestrel accepts, far over an id's 128.
            var path = happy.Path.Replace(account.AccountId, new string('a', 4000), StringComparison.Ordinal);
            var answer = await platform.SendAsync(c.Service, happy.Method, path, account.Token, happy.Body?.DeepClone());
            AssertOverLong(answer, "account_id", $"{c} with a long account id");
            checkedFields++;
        }
        if (happy.Body is JsonObject body)
        {
            foreach (var (property, value) in body)
            {
                JsonNode? huge = value switch
                {
                    JsonValue v when v.TryGetValue<string>(out _) => Huge,
                    JsonArray { Count: > 0 } a when a[0] is JsonValue v0 && v0.TryGetValue<string>(out _) => new JsonArray(Huge),
                    _ => null,
                };
                if (huge is null) continue;
                var sent = (JsonObject)body.DeepClone();
                sent[property] = huge;
                var answer = await platform.SendAsync(c.Service, happy.Method, happy.Path, account.Token, sent);
                AssertOverLong(answer, Snake(property) + (huge is JsonArray ? "[0]" : ""), $"{c} with a long {property}");
                checkedFields++;
            }
        }
        if (checkedFields == 0) Assert.False(c.AccountScoped, $"{c}: nothing checked");
    }

    [Fact]
    public async Task Query_values_and_unknown_body_fields_are_echoed_as_a_short_prefix_only()
    {
        var account = await platform.AccountAsync();
        var statistics = await platform.SendAsync("FaceId.Billing", HttpMethod.Get,
            $"/v1/accounts/{account.AccountId}/statistics?from={new string('9', 4000)}&to=now&granularity=day", account.Token);
        ProblemAssert.Is(statistics, 400, "INVALID_ARGUMENT", "from", "a long from");
        Assert.True(statistics.Raw.Length <= MaxErrorBytes, $"{statistics.Raw.Length} bytes");

        var catalog = await platform.SendAsync("FaceId.Packages", HttpMethod.Get, $"/v1/catalog?priceBook={new string('b', 4000)}", account.Token);
        AssertOverLong(catalog, "price_book", "a long price book");

        var purchase = await platform.SendAsync("FaceId.Packages", HttpMethod.Post, $"/v1/accounts/{account.AccountId}/packages", account.Token,
            new JsonObject { ["orderId"] = "o-1", ["label"] = "basic_authoritative", ["size"] = 1000, [Huge] = 1 });
        ProblemAssert.Is(purchase, 400, "INVALID_ARGUMENT", null, "an unknown field with a long name");
        Assert.True(purchase.Raw.Length <= MaxErrorBytes, $"{purchase.Raw.Length} bytes");
    }

    private static void AssertOverLong(HttpAnswer answer, string field, string because)
    {
        ProblemAssert.Is(answer, 400, "INVALID_ARGUMENT", null, because);
        var errors = answer.Json!["errors"] as JsonArray;
        Assert.True(errors is not null && errors.Any(e => ((string?)e!["field"])?.EndsWith(field, StringComparison.Ordinal) == true
            && ((string?)e!["description"])?.StartsWith("must be at most ", StringComparison.Ordinal) == true), $"{because}: {answer.Raw}");
        Assert.True(answer.Raw.Length <= MaxErrorBytes, $"{because}: an answer of {answer.Raw.Length} bytes");
    }

    /// <summary>orderId → order_id: the proto name the field violations use.</summary>
    private static string Snake(string jsonName) => LowerUpper().Replace(jsonName, "$1_$2").ToLowerInvariant();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex LowerUpper();
}
