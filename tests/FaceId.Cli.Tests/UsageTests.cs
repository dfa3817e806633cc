using System.Text;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>usage record and usage replay (RecordUsageBatch with a summary).</summary>
[Collection(PlatformCollection.Name)]
public sealed class UsageTests(PlatformFixture platform) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faceidctl-replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Record_charges_a_trial_package_once_and_a_replay_of_the_request_id_is_a_duplicate()
    {
        var accountId = await platform.OpenedAccountAsync();
        var requestId = TestIds.New("req");
        // A replay repeats the call, its time included (--at now would name another call: IDEMPOTENCY_KEY_REUSED).
        var at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        string[] record = ["usage", "record", "--account", accountId, "--request-id", requestId, "--label", "basic_authoritative", "--mode", "paas", "--code", "0", "--at", at];

        var first = (await platform.RunAsync(record)).AssertExit(ExitCodes.Ok);
        Assert.Matches(@"kind\s+│\s+PACKAGE\s", first.Out);
        Assert.Matches(@"package remaining\s+│\s+99\s", first.Out);
        Assert.Matches(@"duplicate\s+│\s+no\s", first.Out);
        Assert.Equal("", first.Err);

        var replay = (await platform.RunAsync([.. record, "--json"])).AssertExit(ExitCodes.Ok).Json<RecordUsageResponse>().Outcome;
        Assert.True(replay.Duplicate);
        Assert.Equal(ChargeKind.Package, replay.Kind);
        Assert.Equal(99, replay.PackageRemaining);
        Assert.Equal(accountId, replay.ChargedAccountId);

        // The same request id for another call (another return code, a new --at now): refused, naming what differs (R-PKG-5).
        var reused = (await platform.RunAsync("usage", "record", "--account", accountId, "--request-id", requestId, "--label", "basic_authoritative", "--mode", "paas", "--code", "2006", "--at", "now")).AssertExit(ExitCodes.FailedPrecondition);
        Assert.Contains("IDEMPOTENCY_KEY_REUSED", reused.Err);
        Assert.Contains("return_code, occurred_at", reused.Err);
        Assert.Equal(99, (await platform.RunAsync([.. record, "--json"])).AssertExit(ExitCodes.Ok).Json<RecordUsageResponse>().Outcome.PackageRemaining);

        // channel + library names the label (wechat_mini_program + authoritative → enhanced_authoritative_wechat).
        var byChannel = (await platform.RunAsync("usage", "record", "--account", accountId, "--request-id", TestIds.New("req"),
            "--channel", "wechat_mini_program", "--library", "authoritative", "--json")).AssertExit(ExitCodes.Ok).Json<RecordUsageResponse>().Outcome;
        Assert.Equal(ChargeKind.Package, byChannel.Kind);
        Assert.Equal("enhanced_authoritative_wechat", byChannel.Label);

        // An account that does not exist is an answer, not an error: REFUSED.
        var unknown = (await platform.RunAsync("usage", "record", "--account", TestIds.New("nobody"), "--request-id", TestIds.New("req"), "--label", "basic_authoritative")).AssertExit(ExitCodes.Ok);
        Assert.Matches(@"kind\s+│\s+REFUSED\s", unknown.Out);
        Assert.Matches(@"refusal\s+│\s+UNKNOWN_ACCOUNT\s", unknown.Out);
    }

    [Fact]
    public async Task Replay_of_500_records_reports_every_outcome_and_a_second_replay_charges_nothing()
    {
        var accountId = await platform.OpenedAccountAsync();
        // After the activation: a call before it would be refused (service not opened then).
        var at = DateTimeOffset.UtcNow;
        var run = TestIds.New("replay");
        var records = new List<UsageRecord>();
        // 250 billable calls on basic_authoritative: 100 use the trial package, 150 go postpaid.
        for (var i = 0; i < 250; i++) records.Add(Usage($"{run}:billable:{i}", accountId, "0", at));
        // 100 calls with a code that is never billed.
        for (var i = 0; i < 100; i++) records.Add(Usage($"{run}:failed:{i}", accountId, "9999", at));
        // 40 calls of accounts that don't exist and 10 made before the activation (an hour before the first call): refused.
        for (var i = 0; i < 40; i++) records.Add(Usage($"{run}:stranger:{i}", $"{run}-nobody-{i}", "0", at));
        for (var i = 0; i < 10; i++) records.Add(Usage($"{run}:early:{i}", accountId, "0", at.AddHours(-1)));
        // 100 request ids sent before (in the first batches): duplicates, charged once.
        for (var i = 0; i < 100; i++) records.Add(Usage($"{run}:billable:{i}", accountId, "0", at));
        Assert.Equal(500, records.Count);
        var file = Write("usage.jsonl", records.Select(r => JsonFormatter.Default.Format(r)).Prepend("# exported usage records").Append(""));

        var replay = (await platform.RunAsync("usage", "replay", file, "--batch-size", "64")).AssertExit(ExitCodes.Ok);
        Assert.Contains("replay of usage.jsonl (8 batches)", replay.Out);
        var row = Assert.Single(replay.Out.Split('\n'), l => Cells(l).FirstOrDefault() == "500");
        Assert.Equal(["500", "100", "150", "100", "50", "100", "0"], Cells(row).Take(7).ToArray());
        Assert.Matches(@"\d+\.\d\d s", row);
        Assert.Matches(@"\d+\.\d/s", row);

        var second = (await platform.RunAsync("usage", "replay", file, "--json")).AssertExit(ExitCodes.Ok);
        using var summary = System.Text.Json.JsonDocument.Parse(second.Out);
        var s = summary.RootElement;
        Assert.Equal(500, s.GetProperty("records").GetInt64());
        // Every recorded request id comes back as a duplicate, the refusals kept with their id too (R-ACC-2: not opened at
        // the call's time); calls of unknown accounts are not recorded anywhere, so they are refused again.
        Assert.Equal(460, s.GetProperty("duplicates").GetInt64());
        Assert.Equal(40, s.GetProperty("refused").GetInt64());
        Assert.Equal(0, s.GetProperty("package").GetInt64() + s.GetProperty("postpaid").GetInt64() + s.GetProperty("notBillable").GetInt64());
        Assert.Equal(0, s.GetProperty("errors").GetInt64());
        Assert.Equal(1, s.GetProperty("batches").GetInt64());

        var balances = (await platform.RunAsync("packages", "balances", "--account", accountId, "--json")).AssertExit(ExitCodes.Ok).Json<GetBalancesResponse>();
        Assert.DoesNotContain(balances.Balances, b => b.Label == "basic_authoritative" && b.Remaining > 0);
        Assert.Equal(100, Assert.Single(balances.Balances, b => b.Label == "basic_self_photo").Remaining);
    }

    [Fact]
    public async Task Replay_counts_malformed_and_invalid_records_as_errors_and_exits_3()
    {
        var accountId = await platform.OpenedAccountAsync();
        var run = TestIds.New("bad-replay");
        var good = Enumerable.Range(0, 5).Select(i => JsonFormatter.Default.Format(Usage($"{run}:{i}", accountId, "0", DateTimeOffset.UtcNow))).ToList();
        string[] lines =
        [
            good[0],
            "{ not json",
            good[1],
            JsonFormatter.Default.Format(Usage("bad id!", accountId, "0", DateTimeOffset.UtcNow)),
            good[2],
            "{\"requestId\": \"x\", \"noSuchField\": 1}",
            good[3],
            good[4],
        ];
        var file = Write("bad.jsonl", lines);

        var replay = await platform.RunAsync("usage", "replay", file, "--no-progress");
        replay.AssertExit(ExitCodes.InvalidArgument);
        var row = Assert.Single(replay.Out.Split('\n'), l => Cells(l).FirstOrDefault() == "8");
        Assert.Equal(["8", "5", "0", "0", "0", "0", "0", "3"], Cells(row).Take(8).ToArray());
        Assert.Contains("line 2: not a faceid.metering.v1.UsageRecord", replay.Err);
        Assert.Contains("line 4: INVALID_ARGUMENT", replay.Err);
        Assert.Contains("record.request_id", replay.Err);
        Assert.Contains("line 6: not a faceid.metering.v1.UsageRecord", replay.Err);
        Assert.Contains("3 of 8 records were not accepted", replay.Err);
    }

    [Fact]
    public async Task Replay_off_a_terminal_prints_plain_progress_lines_ending_at_100_percent()
    {
        var accountId = await platform.OpenedAccountAsync();
        var run = TestIds.New("plain-progress");
        var at = DateTimeOffset.UtcNow;
        var file = Write("progress.jsonl", Enumerable.Range(0, 1000).Select(i => JsonFormatter.Default.Format(Usage($"{run}:{i}", accountId, "9999", at))));

        // The test's stderr is a StringWriter, as a redirected stderr (CI, a log file): no live bar.
        var replay = (await platform.RunAsync("usage", "replay", file, "--batch-size", "100")).AssertExit(ExitCodes.Ok);
        var lines = replay.Err.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.All(lines, l => Assert.Matches(@"^replay: [\d,]+/1,000 records \(\d+%\), [\d,]+ records/s$", l));
        // One line per 10 % (each batch of 100 is another tenth), then the final one.
        Assert.True(lines.Count >= 10, replay.ToString());
        Assert.StartsWith("replay: 1,000/1,000 records (100%), ", lines[^1]);
        Assert.Single(lines, l => l.Contains("(100%)"));
        var percents = lines.Select(l => int.Parse(System.Text.RegularExpressions.Regex.Match(l, @"\((\d+)%\)").Groups[1].Value)).ToList();
        Assert.Equal(percents.Order(), percents);
        Assert.Contains(50, percents);
        Assert.DoesNotContain("\u001b", replay.Err);
        var row = Assert.Single(replay.Out.Split('\n'), l => Cells(l).FirstOrDefault() == "1000");
        Assert.Equal("1000", Cells(row).ElementAt(3)); // not billable

        // --no-progress and --json: nothing on stderr.
        var quiet = (await platform.RunAsync("usage", "replay", file, "--no-progress")).AssertExit(ExitCodes.Ok);
        Assert.Equal("", quiet.Err);
        var json = (await platform.RunAsync("usage", "replay", file, "--json")).AssertExit(ExitCodes.Ok);
        Assert.Equal("", json.Err);
    }

    [Fact]
    public void A_plain_progress_line_has_counts_percent_and_rate()
    {
        Assert.Equal("replay: 12,000/50,000 records (24%), 8,000 records/s", Commands.UsageReplay.PlainProgress.Line(12_000, 50_000, TimeSpan.FromSeconds(1.5)));
        Assert.Equal("replay: 0/0 records (100%), 0 records/s", Commands.UsageReplay.PlainProgress.Line(0, 0, TimeSpan.Zero));
    }

    private static UsageRecord Usage(string requestId, string accountId, string code, DateTimeOffset at) => new()
    {
        RequestId = requestId,
        AccountId = accountId,
        Label = "basic_authoritative",
        AccessMode = AccessMode.Saas,
        ReturnCode = code,
        OccurredAt = Timestamp.FromDateTimeOffset(at),
    };

    private string Write(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines, new UTF8Encoding(false));
        return path;
    }

    /// <summary>The cells of one table row: "│ 500 │ 100 │ …" → ["500", "100", …].</summary>
    public static IEnumerable<string> Cells(string row) =>
        row.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
