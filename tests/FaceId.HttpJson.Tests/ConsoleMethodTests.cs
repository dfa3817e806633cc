using System.Text.Json.Nodes;
using FaceId.TestKit;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>
/// Every console-facing method over plain HTTP/1.1 and JSON, against the running services:
/// the happy path answers 200 with the JSON of the gRPC response; bad input answers the precise
/// status as problem details naming the field; a console caller reaching into another account is
/// refused with 403 / PERMISSION_DENIED; refused calls change nothing in Redis.
/// </summary>
[Collection(HttpPlatformCollection.Name)]
public sealed class ConsoleMethodTests(HttpPlatform platform)
{
    public static TheoryData<string> Cases => [.. ConsoleMethods.All.Select(c => c.ToString())];

    public static TheoryData<string> AccountScopedCases => [.. ConsoleMethods.All.Where(c => c.AccountScoped).Select(c => c.ToString())];

    private static Case Find(string name) => ConsoleMethods.All.Single(c => c.ToString() == name);

    private async Task<HttpAnswer> SendAsync(Case c, Request request, ConsoleAccount account) =>
        await platform.SendAsync(c.Service, request.Method, request.Path, request.Token ?? account.Token, request.Body?.DeepClone());

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Happy_path_answers_200_with_the_json_of_the_response(string name)
    {
        var c = Find(name);
        var account = await platform.AccountAsync();
        var answer = await SendAsync(c, c.Happy(account), account);
        Assert.True(answer.Status == 200, $"{c}: {answer}");
        Assert.Equal("application/json", answer.ContentType);
        Assert.True(answer.Json is not null && c.Holds(account, answer.Json), $"{c}: unexpected body {answer.Raw}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_answers_problem_details_with_the_grpc_status_and_changes_nothing(string name)
    {
        var c = Find(name);
        var account = await platform.AccountAsync();
        var bad = c.Bad(account);
        var before = await platform.SnapshotAsync();
        var answer = await SendAsync(c, bad.Request, account);
        ProblemAssert.Is(answer, bad.Status, bad.GrpcStatus, bad.Field, c.ToString());
        Assert.Equal(before, await platform.SnapshotAsync());
    }

    [Theory]
    [MemberData(nameof(AccountScopedCases))]
    public async Task A_console_caller_reaching_into_another_account_is_403_PERMISSION_DENIED_and_changes_nothing(string name)
    {
        var c = Find(name);
        var account = await platform.AccountAsync();
        var happy = c.Happy(account);
        var other = TestIds.New("acc");
        var intoOther = happy with { Path = happy.Path.Replace($"/v1/accounts/{account.AccountId}", $"/v1/accounts/{other}", StringComparison.Ordinal) };
        Assert.NotEqual(happy.Path, intoOther.Path);
        var before = await platform.SnapshotAsync();
        var answer = await SendAsync(c, intoOther, account);
        ProblemAssert.Is(answer, 403, "PERMISSION_DENIED", null, c.ToString());
        Assert.Equal("ACCOUNT_NOT_IN_SCOPE", (string?)answer.Json!["reason"]);
        Assert.Equal(before, await platform.SnapshotAsync());
    }
}

/// <summary>The problem-details shape every HTTP/JSON error has (RFC 9457 plus the gRPC status).</summary>
public static class ProblemAssert
{
    public static void Is(HttpAnswer answer, int status, string grpcStatus, string? field, string because)
    {
        Assert.True(answer.Status == status, $"{because}: expected HTTP {status}, got {answer}");
        Assert.Equal("application/problem+json", answer.ContentType);
        var problem = Assert.IsType<JsonObject>(answer.Json);
        Assert.Equal(status, (int)problem["status"]!);
        Assert.Equal(grpcStatus, (string?)problem["grpcStatus"]);
        Assert.Equal($"urn:faceid:grpc-status:{grpcStatus}", (string?)problem["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]), $"{because}: no detail in {answer.Raw}");
        if (field is not null)
            Assert.True(problem["errors"] is JsonArray errors && errors.Any(e => (string?)e!["field"] == field), $"{because}: no error for field {field} in {answer.Raw}");
    }
}
