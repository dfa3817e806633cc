using FaceId.TestKit;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>Failures: one clear line on stderr, a distinct exit code (README "Operator CLI").</summary>
[Collection(PlatformCollection.Name)]
public sealed class ErrorTests(PlatformFixture platform)
{
    [Fact]
    public async Task A_field_the_server_refuses_exits_3_and_names_the_field()
    {
        var record = await platform.RunAsync("usage", "record", "--account", "acct-1", "--request-id", "bad id!", "--label", "basic_authoritative");
        record.AssertExit(ExitCodes.InvalidArgument);
        Assert.Equal("", record.Out);
        var line = Assert.Single(record.Err.TrimEnd().Split('\n'));
        Assert.StartsWith("faceidctl: metering (127.0.0.1:", line);
        Assert.Contains("INVALID_ARGUMENT", line);
        Assert.Contains("record.request_id", line);

        var buy = await platform.RunAsync("packages", "buy", "--account", "acct 1", "--label", "basic_authoritative", "--size", "1000", "--order-id", "order 1");
        buy.AssertExit(ExitCodes.InvalidArgument);
        Assert.Contains("order_id", buy.Err);
        Assert.Contains("account_id", buy.Err);
    }

    [Fact]
    public async Task R_PKG_1_an_order_id_reused_for_another_package_exits_5_naming_the_key_and_the_differing_field()
    {
        var accountId = await platform.OpenedAccountAsync();
        var order = TestIds.New("order");
        (await platform.RunAsync("packages", "buy", "--account", accountId, "--label", "basic_authoritative", "--size", "1000", "--order-id", order)).AssertExit(ExitCodes.Ok);

        var reused = await platform.RunAsync("packages", "buy", "--account", accountId, "--label", "basic_authoritative", "--size", "10000", "--order-id", order);

        reused.AssertExit(ExitCodes.FailedPrecondition);
        var line = Assert.Single(reused.Err.TrimEnd().Split('\n'));
        Assert.Contains("FAILED_PRECONDITION IDEMPOTENCY_KEY_REUSED: order_id was already used for a request with a different size;", line);
    }

    [Fact]
    public async Task An_unknown_package_or_account_exits_4()
    {
        var accountId = await platform.OpenedAccountAsync();
        var refund = await platform.RunAsync("refund", "request", "--account", accountId, "--package", "pkg-unknown", "--key", TestIds.New("refund"));
        refund.AssertExit(ExitCodes.NotFound);
        Assert.Contains("NOT_FOUND", refund.Err);

        var packages = await platform.RunAsync("packages", "list", "--account", TestIds.New("nobody"));
        packages.AssertExit(ExitCodes.NotFound);
        Assert.Contains("packages (127.0.0.1:", packages.Err);
    }

    [Fact]
    public async Task A_service_that_is_down_exits_6_naming_where_it_was_looked_for()
    {
        var port = FreePort.Next(); // nothing listens there
        var result = await Cli.RunAsync(["packages", "balances", "--account", "acct-1", "--port-base", "5101", "--packages-port", port.ToString(), "--timeout", "10"]);
        result.AssertExit(ExitCodes.Unavailable);
        var line = Assert.Single(result.Err.TrimEnd().Split('\n'));
        Assert.Contains($"packages (127.0.0.1:{port}): UNAVAILABLE", line);
        Assert.Contains("is the platform running", line);

        var replay = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(replay, "{\"requestId\":\"r-1\",\"accountId\":\"acct-1\",\"label\":\"basic_authoritative\",\"accessMode\":\"ACCESS_MODE_SAAS\",\"returnCode\":\"0\"}\n");
            var down = await Cli.RunAsync(["usage", "replay", replay, "--metering-port", port.ToString(), "--retries", "1", "--no-progress"]);
            down.AssertExit(ExitCodes.Unavailable);
            Assert.Contains($"metering (127.0.0.1:{port}): UNAVAILABLE", down.Err);
            // The summary of what was done is still printed: 1 record read, none sent.
            Assert.Single(down.Out.Split('\n'), l => UsageTests.Cells(l).FirstOrDefault() == "1");
        }
        finally
        {
            File.Delete(replay);
        }
    }

    [Fact]
    public async Task A_bad_command_line_exits_2()
    {
        foreach (var args in new[]
        {
            new[] { "no-such-command" },
            ["packages"],
            ["packages", "list"],
            ["usage", "record", "--account", "a", "--request-id", "r"],
            ["usage", "record", "--account", "a", "--request-id", "r", "--label", "l", "--at", "yesterday-ish"],
            ["usage", "record", "--account", "a", "--request-id", "r", "--label", "l", "--mode", "cloud"],
            ["stats", "--account", "a", "--granularity", "week"],
            ["usage", "replay", "/no/such/file.jsonl"],
            ["usage", "replay", "x.jsonl", "--batch-size", "5001"],
            ["packages", "balances", "--account", "a", "--timeout", "0"],
        })
        {
            var result = await platform.RunAsync(args);
            result.AssertExit(ExitCodes.Usage);
            Assert.StartsWith("faceidctl: ", result.Err);
            Assert.Equal("", result.Out);
        }
    }

    [Fact]
    public async Task Help_goes_to_stdout_and_exits_0()
    {
        var help = await Cli.RunAsync(["--help"]);
        help.AssertExit(ExitCodes.Ok);
        foreach (var command in new[] { "usage", "packages", "stats", "bill", "settle", "applications", "refund", "inbox" })
            Assert.Contains(command, help.Out);
        Assert.Contains("Exit codes: 0 ok", help.Out);
        var sub = await Cli.RunAsync(["usage", "replay", "--help"]);
        sub.AssertExit(ExitCodes.Ok);
        Assert.Contains("--batch-size", sub.Out);
    }
}
