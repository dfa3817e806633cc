using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceId.Auth;
using FaceId.TestKit;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>
/// The export routes of Billing's HTTP port (docs/api.md, "Exports"): the file itself with its
/// Content-Type and Content-Disposition, the caller rule of the gRPC methods (401, 403), the query
/// forms of the transcoded routes and problem details for bad input.
/// </summary>
[Collection(HttpPlatformCollection.Name)]
public sealed class ExportRouteTests(HttpPlatform platform)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private sealed record FileAnswer(int Status, string? ContentType, string? Charset, ContentDispositionHeaderValue? Disposition, string Body, HttpAnswer AsProblem);

    private async Task<FileAnswer> GetAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(platform["FaceId.Billing"].HttpAddress, path));
        if (token.Length > 0) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var type = response.Content.Headers.ContentType;
        var json = type?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true && body.Length > 0 && type.MediaType != "application/x-ndjson" ? JsonNode.Parse(body) : null;
        return new FileAnswer((int)response.StatusCode, type?.MediaType, type?.CharSet, response.Content.Headers.ContentDisposition, body,
            new HttpAnswer((int)response.StatusCode, type?.MediaType, json, body));
    }

    [Fact]
    public async Task The_statistics_route_answers_the_file_with_its_headers_and_the_rows_of_the_statistics_route()
    {
        var account = await platform.AccountAsync();
        var month = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM");
        var query = $"from={month}&to=now&granularity=day";
        // Billing counts the account's recorded call from its event: eventually.
        var statistics = await Eventually.GetAsync(
            () => platform.SendAsync("FaceId.Billing", HttpMethod.Get, $"/v1/accounts/{account.AccountId}/statistics?{query}", account.Token),
            a => a.Json?["rows"] is JsonArray { Count: > 0 }, HttpPlatform.Timeout, "the recorded call in the statistics");
        var rows = (JsonArray)statistics.Json!["rows"]!;

        var csv = await GetAsync($"/v1/accounts/{account.AccountId}/exports/statistics?{query}&format=csv", account.Token);
        Assert.True(csv.Status == 200, csv.Body);
        Assert.Equal(("text/csv", "utf-8"), (csv.ContentType, csv.Charset));
        Assert.Equal("attachment", csv.Disposition?.DispositionType);
        Assert.Matches($"^statistics-{account.AccountId}-{month}-01_\\d{{4}}-\\d{{2}}-\\d{{2}}-day\\.csv$", csv.Disposition?.FileName?.Trim('"'));
        var lines = csv.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("period,period_start,period_end,label,access_mode,sub_account_id,calls,", lines[0]);
        Assert.Equal(rows.Select(r => $"{r!["period"]},{r["label"]},{(long)r["calls"]!},{(long?)r["postpaidAmountFen"] ?? 0}"),
            lines.Skip(1).Select(l => l.Split(',')).Select(c => $"{c[0]},{c[3]},{c[6]},{c[10]}"));

        // The default format is CSV; JSON Lines on request, one object per row.
        Assert.Equal(csv.Body, (await GetAsync($"/v1/accounts/{account.AccountId}/exports/statistics?{query}", account.Token)).Body);
        var jsonl = await GetAsync($"/v1/accounts/{account.AccountId}/exports/statistics?{query}&format=jsonl&byAccessMode=true", account.Token);
        Assert.Equal(("application/x-ndjson", 200), (jsonl.ContentType, jsonl.Status));
        Assert.EndsWith(".jsonl", jsonl.Disposition?.FileName?.Trim('"'));
        var objects = jsonl.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(rows.Sum(r => (long)r!["calls"]!), objects.Sum(o => o.GetProperty("calls").GetInt64()));
        Assert.All(objects, o => Assert.Equal("SAAS", o.GetProperty("access_mode").GetString()));
    }

    [Fact]
    public async Task The_bills_route_answers_every_bill_of_the_range_as_the_bill_route_does()
    {
        var account = await platform.AccountAsync();
        var bill = await platform.SendAsync("FaceId.Billing", HttpMethod.Get, $"/v1/accounts/{account.AccountId}/bills/{account.BillId}", account.Token);
        Assert.Equal(200, bill.Status);
        var start = (string)bill.Json!["periodStart"]!;
        var file = await GetAsync($"/v1/accounts/{account.AccountId}/exports/bills?from={Uri.EscapeDataString(start)}&to=now&format=JSONL", account.Token);
        Assert.True(file.Status == 200, file.Body);
        Assert.Equal("application/x-ndjson", file.ContentType);
        Assert.Matches($"^bills-{account.AccountId}-.*\\.jsonl$", file.Disposition?.FileName?.Trim('"'));
        var exported = JsonDocument.Parse(file.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single()).RootElement;
        Assert.Equal(account.BillId, exported.GetProperty("bill_id").GetString());
        Assert.Equal((long?)bill.Json["totalFen"] ?? 0, exported.GetProperty("total_fen").GetInt64());
        Assert.Equal(((JsonArray?)bill.Json["lines"])?.Count ?? 0, exported.GetProperty("lines").GetArrayLength());
        Assert.Equal(DateTimeOffset.Parse(start), DateTimeOffset.Parse(exported.GetProperty("period_start").GetString()!));
        Assert.EndsWith("+08:00", exported.GetProperty("period_start").GetString());
    }

    [Theory]
    [InlineData("statistics", "from=2026-12&to=2027-01&granularity=day")]
    [InlineData("bills", "from=2026-12&to=2027-01")]
    public async Task Callers_are_checked_as_for_the_gRPC_method_401_and_403_with_problem_details(string export, string query)
    {
        var account = await platform.AccountAsync();
        var path = $"/v1/accounts/{account.AccountId}/exports/{export}?{query}";
        foreach (var token in new[] { "", "not.a.jwt", new TokenMinter(TokenMinter.NewKey()).Mint("forger", Roles.All, account.AccountId) })
            ProblemAssert.Is((await GetAsync(path, token)).AsProblem, 401, "UNAUTHENTICATED", null, $"{export} with token '{token}'");

        var other = await GetAsync(path, HttpPlatform.ConsoleToken(TestIds.New("other")));
        ProblemAssert.Is(other.AsProblem, 403, "PERMISSION_DENIED", null, "a console of another account");
        Assert.Equal("ACCOUNT_NOT_IN_SCOPE", (string?)other.AsProblem.Json!["reason"]);
        var gateway = await GetAsync(path, TestAuth.Token(Roles.Gateway));
        ProblemAssert.Is(gateway.AsProblem, 403, "PERMISSION_DENIED", null, "the gateway role");
        Assert.Equal("ROLE_NOT_ALLOWED", (string?)gateway.AsProblem.Json!["reason"]);

        Assert.Equal(200, (await GetAsync(path, account.Token)).Status);
        Assert.Equal(200, (await GetAsync(path, TestAuth.Token(Roles.BillingOperator))).Status);
        var unknown = await GetAsync($"/v1/accounts/{TestIds.New("nobody")}/exports/{export}?{query}", TestAuth.Token(Roles.BillingOperator));
        ProblemAssert.Is(unknown.AsProblem, 404, "NOT_FOUND", null, "an account Billing does not know");
    }

    [Fact]
    public async Task Bad_query_values_are_400_INVALID_ARGUMENT_naming_each_parameter()
    {
        var account = await platform.AccountAsync();
        var root = $"/v1/accounts/{account.AccountId}/exports";
        ProblemAssert.Is((await GetAsync($"{root}/statistics?from=yesterday&to=now&granularity=day", account.Token)).AsProblem, 400, "INVALID_ARGUMENT", "from", "an unreadable from");
        ProblemAssert.Is((await GetAsync($"{root}/statistics?from=2026-12&to=now&granularity=week", account.Token)).AsProblem, 400, "INVALID_ARGUMENT", "granularity", "granularity=week");
        ProblemAssert.Is((await GetAsync($"{root}/statistics?from=2026-12&to=now&granularity=day&format=xlsx", account.Token)).AsProblem, 400, "INVALID_ARGUMENT", "format", "format=xlsx");
        ProblemAssert.Is((await GetAsync($"{root}/statistics?from=2026-12&to=2026-11&granularity=day", account.Token)).AsProblem, 400, "INVALID_ARGUMENT", "to", "to before from");
        ProblemAssert.Is((await GetAsync($"{root}/statistics?from=2026-12&to=2026-12-02", account.Token)).AsProblem, 400, "INVALID_ARGUMENT", "granularity", "no granularity");
        ProblemAssert.Is((await GetAsync($"{root}/bills?from=2025-01&to=2026-12", account.Token)).AsProblem, 400, "INVALID_ARGUMENT", "to", "more than 400 days");
        ProblemAssert.Is((await GetAsync($"{root}/bills?to=now", account.Token)).AsProblem, 400, "INVALID_ARGUMENT", "from", "no from");
    }
}
