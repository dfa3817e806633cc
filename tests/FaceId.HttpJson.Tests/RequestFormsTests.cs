using System.Globalization;
using System.Text.Json.Nodes;
using FaceId.TestKit;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>
/// Query values in the forms people type (instants as a Shanghai month or day, RFC 3339 whose "+"
/// arrived as a space, enums by short name in any case), and JSON bodies with unknown fields
/// refused with the fields named instead of silently read as missing.
/// </summary>
[Collection(HttpPlatformCollection.Name)]
public sealed class RequestFormsTests(HttpPlatform platform)
{
    private static readonly TimeSpan Shanghai = TimeSpan.FromHours(8);

    private static DateTimeOffset TodayInShanghai => new(DateTimeOffset.UtcNow.ToOffset(Shanghai).Date, Shanghai);

    /// <summary>A console caller of its own: statistics are rate-limited per token subject (<see cref="HttpPlatform.PermitsPerMinute"/>).</summary>
    private readonly string _statisticsToken = TestIds.New("forms");

    private Task<HttpAnswer> StatisticsAsync(ConsoleAccount account, string query) =>
        platform.SendAsync("FaceId.Billing", HttpMethod.Get, $"/v1/accounts/{account.AccountId}/statistics?{query}",
            TestAuth.Minter.Mint(_statisticsToken, [FaceId.Auth.Roles.Console], account.AccountId));

    private static string Rows(HttpAnswer answer)
    {
        Assert.True(answer.Status == 200, answer.ToString());
        return (answer.Json!["rows"] ?? new JsonArray()).ToJsonString();
    }

    [Fact]
    public async Task Statistics_take_a_month_a_day_and_RFC_3339_with_the_plus_sent_raw_or_encoded_and_all_read_alike()
    {
        var account = await platform.AccountAsync();
        var today = TodayInShanghai;
        var monthStart = new DateTimeOffset(today.Year, today.Month, 1, 0, 0, 0, Shanghai);
        var tomorrow = today.AddDays(1);
        string Rfc(DateTimeOffset t, string plus) => t.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + plus + "08:00";
        var to = Rfc(tomorrow, "%2B");

        // The reference: RFC 3339 with the offset's + URL-encoded and the full enum name, as before.
        // The account made a call today: once Billing has recorded it there is a row for today, so
        // equal answers below are not just empty ones.
        var reference = Rows(await Eventually.GetAsync(
            () => StatisticsAsync(account, $"from={Rfc(monthStart, "%2B")}&to={to}&granularity=GRANULARITY_DAY"),
            a => a.Status != 200 || Rows(a).Contains($"\"period\":\"{today:yyyy-MM-dd}\""), HttpPlatform.Timeout, "today's row in the statistics"));
        Assert.Contains($"\"period\":\"{today:yyyy-MM-dd}\"", reference);

        foreach (var from in new[]
        {
            monthStart.ToString("yyyy-MM", CultureInfo.InvariantCulture),                       // a Shanghai month
            monthStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),                    // a Shanghai day
            monthStart.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), // RFC 3339, Z
            Rfc(monthStart, "+"),                                                                // the + unencoded: decoded as a space
            Rfc(monthStart, "%20"),
        })
        {
            foreach (var granularity in new[] { "day", "Day", "granularity_day" })
                Assert.True(reference == Rows(await StatisticsAsync(account, $"from={from}&to={to}&granularity={granularity}")), $"from={from} granularity={granularity}");
        }
        // `to` as a day too, and a month granularity by its short name.
        Assert.Equal(reference, Rows(await StatisticsAsync(account, $"from={monthStart:yyyy-MM}&to={tomorrow:yyyy-MM-dd}&granularity=day")));
        Assert.Equal(reference, Rows(await StatisticsAsync(account, $"from={monthStart:yyyy-MM}&to=now&granularity=day")));
        var monthly = Rows(await StatisticsAsync(account, $"from={monthStart:yyyy-MM}&to={tomorrow:yyyy-MM-dd}&granularity=month"));
        Assert.Contains($"\"period\":\"{monthStart:yyyy-MM}\"", monthly);
    }

    [Theory]
    [InlineData("from=yesterday&to=2026-12-02&granularity=day", "from")]
    [InlineData("from=2026-12&to=2026-13&granularity=day", "to")]
    [InlineData("from=2026-12-01T00:00:00 25:00&to=2026-12-02&granularity=day", "from")]
    [InlineData("from=2026-12&to=2026-12-02&granularity=week", "granularity")]
    [InlineData("from=2026-12&to=2026-12-02&granularity=GRANULARITY_UNSPECIFIED", "granularity")]
    public async Task An_unreadable_query_value_is_400_INVALID_ARGUMENT_naming_the_parameter(string query, string field)
    {
        var account = await platform.AccountAsync();
        var answer = await StatisticsAsync(account, query);
        ProblemAssert.Is(answer, 400, "INVALID_ARGUMENT", field, query);
        Assert.Single(answer.Json!["errors"]!.AsArray());
        Assert.Contains(field, (string?)answer.Json["detail"]);
    }

    [Fact]
    public async Task A_body_with_a_wrapper_object_is_refused_naming_the_unknown_field_and_changes_nothing()
    {
        var account = await platform.AccountAsync();
        var before = await platform.SnapshotAsync();
        // PUT …/contacts: the body IS the contacts; a {"contacts": {...}} wrapper used to read as
        // empty contacts and fail on contacts.email, which the caller did send.
        var wrapped = await platform.SendAsync("FaceId.Onboarding", HttpMethod.Put, $"/v1/accounts/{account.AccountId}/contacts", account.Token,
            new JsonObject { ["contacts"] = new JsonObject { ["email"] = "a@b.cn", ["mobile"] = "13900139000", ["name"] = "Li Lei" } });
        ProblemAssert.Is(wrapped, 400, "INVALID_ARGUMENT", "contacts.contacts", "wrapped contacts");
        var error = Assert.Single(wrapped.Json!["errors"]!.AsArray());
        Assert.Contains("email, mobile, name", (string?)error!["description"]);
        Assert.DoesNotContain(wrapped.Json["errors"]!.AsArray(), e => (string?)e!["field"] == "contacts.email");

        // Every unknown field is named, nested ones with their path.
        var nested = await platform.SendAsync("FaceId.Onboarding", HttpMethod.Put, $"/v1/accounts/{account.AccountId}/contacts", account.Token,
            new JsonObject { ["email"] = "a@b.cn", ["mobile"] = "13900139000", ["name"] = "Li Lei", ["phone"] = "13900139000", ["nickname"] = "LL" });
        ProblemAssert.Is(nested, 400, "INVALID_ARGUMENT", "contacts.phone", "two unknown fields");
        Assert.Equal(new[] { "contacts.nickname", "contacts.phone" }, nested.Json!["errors"]!.AsArray().Select(e => (string)e!["field"]!).Order().ToArray());

        var typo = await platform.SendAsync("FaceId.Onboarding", HttpMethod.Post, $"/v1/accounts/{account.AccountId}/sub-accounts", account.Token,
            new JsonObject { ["idempotencyKey"] = TestIds.New("sub"), ["dispalyName"] = "Branch office" });
        ProblemAssert.Is(typo, 400, "INVALID_ARGUMENT", "dispalyName", "a misspelt field");
        Assert.Contains("dispalyName", (string?)typo.Json!["detail"]);
        Assert.Equal(before, await platform.SnapshotAsync());
    }

    [Fact]
    public async Task Known_fields_by_json_or_proto_name_still_pass()
    {
        var account = await platform.AccountAsync();
        var byProtoName = await platform.SendAsync("FaceId.Onboarding", HttpMethod.Post, $"/v1/accounts/{account.AccountId}/sub-accounts", account.Token,
            new JsonObject { ["idempotency_key"] = TestIds.New("sub"), ["display_name"] = "Branch by proto names" });
        Assert.True(byProtoName.Status == 200, byProtoName.ToString());
        Assert.Equal("Branch by proto names", (string?)byProtoName.Json!["displayName"]);
        var contacts = await platform.SendAsync("FaceId.Onboarding", HttpMethod.Put, $"/v1/accounts/{account.AccountId}/contacts", account.Token,
            new JsonObject { ["email"] = "finance@example.com", ["mobile"] = "13900139000", ["name"] = "Li Lei" });
        Assert.True(contacts.Status == 200, contacts.ToString());
    }

    [Fact]
    public async Task Without_a_valid_token_a_body_with_unknown_fields_is_401_and_names_nothing()
    {
        var account = await platform.AccountAsync();
        foreach (var token in new[] { "", "not.a.jwt" })
        {
            var answer = await platform.SendAsync("FaceId.Onboarding", HttpMethod.Put, $"/v1/accounts/{account.AccountId}/contacts", token,
                new JsonObject { ["contacts"] = new JsonObject { ["email"] = "a@b.cn" } });
            Assert.True(answer.Status == 401, answer.ToString());
            Assert.DoesNotContain("contacts.contacts", answer.ToString());
        }
    }
}
