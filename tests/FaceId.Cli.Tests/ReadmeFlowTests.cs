using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>
/// README "Operator CLI": the example block on a fresh account, command by command with the same
/// arguments, ids captured from earlier commands as the shell variables there are. If a doc
/// example stops working, this fails.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ReadmeFlowTests(PlatformFixture platform) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faceidctl-readme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> CaptureAsync(params string[] args)
    {
        var result = (await platform.RunAsync(args)).AssertExit(ExitCodes.Ok);
        return result.Out.TrimEnd('\n');
    }

    private async Task<CliResult> OkAsync(params string[] args) => (await platform.RunAsync(args)).AssertExit(ExitCodes.Ok);

    [Fact]
    public async Task The_README_examples_run_in_order_on_a_fresh_account()
    {
        var account = await CaptureAsync("accounts", "create", "--name", "Acme Ltd", "--email", "ops@acme.example", "--phone", "13800138000", "--contact-name", "Li Lei", "-q");
        await OkAsync("accounts", "show", "--account", account);
        var license = Path.Combine(_dir, "license.png");
        await File.WriteAllBytesAsync(license, Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="));
        var app = await CaptureAsync("applications", "submit", "--account", account, "--license", license, "-q");
        Assert.Contains(app, (await OkAsync("applications", "list-pending")).Out);
        await OkAsync("applications", "approve", app, "--reviewer", "ops-1");
        await platform.WaitUntilOpenedEverywhereAsync(account);
        await OkAsync("accounts", "contacts", "--account", account, "--email", "finance@acme.example", "--phone", "13900139000", "--contact-name", "Han Meimei");
        var sub = await CaptureAsync("subaccounts", "create", "--account", account, "--name", "East branch", "-q");
        Assert.Contains(sub, (await OkAsync("subaccounts", "list", "--account", account)).Out);
        await platform.WaitUntilSubAccountRegisteredAsync(sub); // Metering learns of it through Packages' records

        await Eventually.AssertAsync(async () => (await platform.RunAsync("packages", "list", "--account", account)).Out.Contains("6 package(s)"), PlatformFixture.Timeout, "the trial");
        await OkAsync("packages", "balances", "--account", account);
        var pkg = (await OkAsync("--json", "packages", "buy", "--account", account, "--label", "enhanced_authoritative_wechat", "--size", "1000", "--order-id", $"ord-{account}-1")).Json<Package>().PackageId;
        Assert.Contains("PACKAGE", (await OkAsync("usage", "record", "--account", account, "--request-id", $"gw-1:{account}:000001", "--label", "basic_authoritative", "--code", "0", "--at", "now")).Out);
        var subCall = (await OkAsync("usage", "record", "--account", sub, "--request-id", $"gw-1:{account}:000002", "--channel", "wechat_mini_program", "--library", "authoritative", "--mode", "saas", "--at", "now", "--json"))
            .Json<RecordUsageResponse>().Outcome;
        Assert.NotEqual(ChargeKind.Refused, subCall.Kind);

        var now = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        var usage = Path.Combine(_dir, "usage.jsonl");
        await File.WriteAllLinesAsync(usage, Enumerable.Range(1, 2000).Select(i => JsonFormatter.Default.Format(new UsageRecord
        {
            RequestId = $"gw-2:{account}:{i}", AccountId = account, Label = "basic_self_photo", AccessMode = Contracts.Common.V1.AccessMode.Saas, ReturnCode = "0", OccurredAt = now,
        })));
        var replay = await OkAsync("usage", "replay", usage, "--batch-size", "1000");
        Assert.StartsWith("replay: 2,000/2,000 records (100%), ", replay.Err.TrimEnd().Split('\n')[^1]);

        var thisMonth = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM");
        await Eventually.AssertAsync(
            async () => (await platform.RunAsync("stats", "--account", account, "--from", thisMonth, "--to", "now", "--granularity", "day")).Out.Contains("basic_self_photo"),
            PlatformFixture.Timeout, "the replayed calls in the statistics");
        Assert.Contains("CREDITED", (await OkAsync("refund", "request", "--account", account, "--package", pkg, "--key", $"refund-{pkg}")).Out);
        await OkAsync("inbox", "tail", "--account", account, "-n", "20");
        await OkAsync("--json", "packages", "balances", "--account", account);

        // Bills: not on the day the service opened (the README says so).
        var yesterday = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).AddDays(-1).ToString("yyyy-MM-dd");
        var settle = await platform.RunAsync("settle", "--account", account, "--at", yesterday);
        settle.AssertExit(ExitCodes.FailedPrecondition);
        Assert.Contains("PERIOD_BEFORE_ACTIVATION", settle.Err);
        await OkAsync("bill", "list", "--account", account);
    }
}
