using System.Text.RegularExpressions;
using FaceId.Redis;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// Every Lua script has one typed contract (a <see cref="ScriptContract{TRequest, TResult}"/>), the only
/// place that knows its KEYS and ARGV positions and its reply's shape; the building block's own
/// scripts round-trip against a real Redis here.
/// </summary>
public sealed partial class ScriptContractTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly string Services = Path.Combine(ServiceProcess.RepoRoot(), "services");

    [Fact]
    public async Task Compare_and_delete_releases_only_the_holders_token()
    {
        var key = (RedisKey)$"{{acct:{TestIds.New("lock")}}}:outbox:lock";
        await redis.Database.StringSetAsync(key, "mine");

        Assert.False(await CompareAndDelete.Instance.RunAsync(redis.Database, new(key, "theirs")));
        Assert.Equal("mine", (string?)await redis.Database.StringGetAsync(key));
        Assert.True(await CompareAndDelete.Instance.RunAsync(redis.Database, new(key, "mine")));
        Assert.False(await redis.Database.KeyExistsAsync(key));
        Assert.False(await CompareAndDelete.Instance.RunAsync(redis.Database, new(key, "mine")));
    }

    [Fact]
    public async Task Claim_due_claims_only_due_members_and_moves_them_to_the_lease_end()
    {
        var schedule = new LeasedSchedule(redis.Database, $"test:schedule:{TestIds.New("s")}");
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        await schedule.AddAsync("a", now.AddSeconds(-2));
        await schedule.AddAsync("b", now.AddSeconds(-1));
        await schedule.AddAsync("c", now.AddSeconds(1));

        var claimed = await ClaimDue.Instance.RunAsync(redis.Database, new(schedule.Key, now, now.AddMinutes(2), Max: 1));

        Assert.Equal(["a"], claimed);
        Assert.Equal(now.AddMinutes(2).ToUnixTimeMilliseconds(), await schedule.ScoreAsync("a"));
        Assert.Equal(["b"], await schedule.ClaimDueAsync(now, now.AddMinutes(2), 10));
        Assert.Empty(await schedule.ClaimDueAsync(now, now.AddMinutes(2), 10));
    }

    [Fact]
    public void An_unknown_reply_is_an_error_naming_the_script_never_an_outcome()
    {
        var e = Assert.Throws<UnexpectedScriptReplyException>(() => CompareAndDelete.Instance.Parse(RedisResult.Create(7)));
        Assert.Equal("compare-and-delete.lua", e.ScriptName);
        Assert.Contains("7", e.Message);
    }

    /// <summary>
    /// Each script under services/&lt;folder&gt; (its <c>lib-*.lua</c> includes aside) is loaded in exactly one C#
    /// file, which declares its contract; no other code loads a script (and so none runs one by position).
    /// </summary>
    [Theory]
    [InlineData("BuildingBlocks")]
    [InlineData("PackagesLedger")]
    [InlineData("Billing")]
    [InlineData("Onboarding")]
    [InlineData("Refund")]
    public void Every_script_is_loaded_by_one_typed_contract_and_nothing_else_loads_scripts(string folder)
    {
        var root = Path.Combine(Services, folder);
        var scripts = Files(root, "*.lua").Select(Path.GetFileName).Where(n => !n!.StartsWith("lib-", StringComparison.Ordinal)).ToList();
        // The loaders themselves (RedisScript, OutboxScript) aside; a script is looked up in its own folder.
        var sources = Files(root, "*.cs").Where(f => Path.GetFileName(f) is not ("RedisScript.cs" or "OutboxScript.cs"))
            .ToDictionary(f => f, File.ReadAllText);
        Assert.NotEmpty(scripts);

        var problems = new List<string>();
        foreach (var script in scripts)
        {
            var loaders = sources.Where(s => s.Value.Contains($"\"{script}\"", StringComparison.Ordinal)).Select(s => s.Key).ToList();
            if (loaders.Count != 1) problems.Add($"{script}: named in {loaders.Count} C# files ({string.Join(", ", loaders.Select(Path.GetFileName))}), expected its one contract");
            else if (!sources[loaders[0]].Contains(": ScriptContract<", StringComparison.Ordinal)) problems.Add($"{script}: loaded in {Path.GetFileName(loaders[0])}, which declares no ScriptContract");
        }
        foreach (var (file, text) in sources)
            if (LoadsScript().IsMatch(text) && !text.Contains(": ScriptContract<", StringComparison.Ordinal))
                problems.Add($"{Path.GetRelativePath(Services, file)} loads a script outside a contract");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static IEnumerable<string> Files(string root, string pattern) =>
        Directory.EnumerateFiles(root, pattern, SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));

    [GeneratedRegex(@"(?:RedisScript|OutboxScript)\.FromResource\(")]
    private static partial Regex LoadsScript();
}
