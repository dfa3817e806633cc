using System.Text.RegularExpressions;
using FaceId.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// Key ownership (docs/architecture.md, "Key ownership"): every Lua script (its includes expanded)
/// and every C# key helper under services/ is attributed to the service of its folder; a service may
/// touch only the prefixes it owns or that the table lists as shared with it, and every prefix the
/// code uses must be in the table.
/// </summary>
public sealed partial class KeyOwnershipTests(ITestOutputHelper output)
{
    private static readonly string Root = ServiceProcess.RepoRoot();
    private static readonly string Services = Path.Combine(Root, "services");

    [Fact]
    public void Every_service_touches_only_the_key_prefixes_it_owns_or_shares()
    {
        var table = OwnershipTable.Read(Path.Combine(Root, "docs", "architecture.md"));
        var uses = ScanServices().ToList();
        foreach (var u in uses.GroupBy(u => (u.Service, u.Prefix)).Select(g => g.First()).OrderBy(u => u.Service).ThenBy(u => u.Prefix))
            output.WriteLine($"{u.Service,-16} {u.Prefix,-18} {u.Where}");

        // The scan must see the services' keys, or the check below would pass on nothing.
        foreach (var service in new[] { "Packages", "Refund", "Billing", "Onboarding", "EventBus" })
            Assert.True(uses.Count(u => u.Service == service) >= 3, $"the scan found almost no key of {service}: is the layout still services/<Name>/?");

        var violations = table.Violations(uses);
        Assert.True(violations.Count == 0, "Key ownership violated (docs/architecture.md, Key ownership):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void A_script_writing_a_prefix_of_another_service_is_a_violation()
    {
        // The check itself, on a script that is not in the repository: Refund writing Billing's account hash.
        var table = OwnershipTable.Read(Path.Combine(Root, "docs", "architecture.md"));
        var foreign = LuaPrefixes("redis.call('HSET', TAG .. ':bil:acct', 'balance_fen', 0)")
            .Select(p => new KeyUse("Refund", p, "synthetic.lua")).ToList();
        Assert.Equal(["{acct:M}:bil"], foreign.Select(u => u.Prefix));
        var violation = Assert.Single(table.Violations(foreign));
        Assert.Contains("Refund", violation);
        Assert.Contains("{acct:M}:bil", violation);
        // … and an unlisted prefix is one too.
        Assert.Single(table.Violations([new KeyUse("Packages", "{acct:M}:nobody", "synthetic.lua")]));
    }

    /// <summary>One use of a key prefix by a service's code.</summary>
    public sealed record KeyUse(string Service, string Prefix, string Where);

    /// <summary>The service a file under services/ belongs to: its top folder, the Packages libraries included, building blocks by name.</summary>
    private static string ServiceOf(string path)
    {
        var parts = Path.GetRelativePath(Services, path).Split(Path.DirectorySeparatorChar);
        if (parts[0] == "BuildingBlocks") return parts[1].Replace("FaceId.", "", StringComparison.Ordinal);
        return parts[0].StartsWith("Packages", StringComparison.Ordinal) ? "Packages" : parts[0];
    }

    private static IEnumerable<string> SourceFiles(string pattern) =>
        Directory.EnumerateFiles(Services, pattern, SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));

    private static IEnumerable<KeyUse> ScanServices()
    {
        var scripts = SourceFiles("*.lua").ToList();
        foreach (var script in scripts)
            foreach (var prefix in LuaPrefixes(Expand(script, scripts, 0)))
                yield return new KeyUse(ServiceOf(script), prefix, Path.GetRelativePath(Root, script));
        foreach (var source in SourceFiles("*.cs"))
            foreach (var prefix in CSharpPrefixes(File.ReadAllText(source)))
                yield return new KeyUse(ServiceOf(source), prefix, Path.GetRelativePath(Root, source));
    }

    /// <summary>A script as RedisScript loads it: "-- #include x.lua" from its own folder, else from the one library that has it.</summary>
    private static string Expand(string script, IReadOnlyList<string> all, int depth)
    {
        Assert.True(depth < 5, $"includes nested too deeply at {script}");
        return string.Join('\n', File.ReadAllLines(script).Select(line =>
        {
            if (!line.StartsWith("-- #include ", StringComparison.Ordinal)) return line;
            var name = line["-- #include ".Length..].Trim();
            var own = Path.Combine(Path.GetDirectoryName(script)!, name);
            var found = File.Exists(own) ? own : Assert.Single(all, f => Path.GetFileName(f) == name);
            return Expand(found, all, depth + 1);
        }));
    }

    /// <summary>
    /// Keys a script builds from the account's hash tag: <c>TAG .. ':pk:'</c> → <c>{acct:M}:pk</c>, or around a spelled-out
    /// tag: <c>'{acct:' .. id .. '}:pk'</c> → <c>{acct:M}:pk</c>.
    /// </summary>
    public static IEnumerable<string> LuaPrefixes(string lua) =>
        LuaTagKey().Matches(lua).Concat(LuaSpelledTagKey().Matches(lua)).Select(m => "{acct:M}:" + m.Groups[1].Value).Distinct();

    /// <summary>
    /// Keys of C# helpers: <c>RedisKeys.ForAccount(x, "seg…")</c>, <c>RedisKeys.Outbox(…)</c>, and global keys
    /// <c>…Key = "seg:…"</c>, <c>…Index = "seg:…"</c> or a member <c>Name(…) =&gt; "seg:…"</c>.
    /// </summary>
    public static IEnumerable<string> CSharpPrefixes(string cs) =>
        CsAccountKey().Matches(cs).Select(m => "{acct:M}:" + m.Groups[1].Value)
            .Concat(CsOutbox().IsMatch(cs) ? ["{acct:M}:outbox"] : [])
            .Concat(CsGlobalKey().Matches(cs).Select(m => m.Groups[1].Value + ":"))
            .Distinct();

    [GeneratedRegex(@"\w*tag\w*\s*\.\.\s*'\:([a-z0-9_]+)", RegexOptions.IgnoreCase)]
    private static partial Regex LuaTagKey();

    [GeneratedRegex(@"'\}:([a-z0-9_]+)")]
    private static partial Regex LuaSpelledTagKey();

    [GeneratedRegex(@"RedisKeys\.ForAccount\([^,]+,\s*\$?""([a-z0-9_]+)")]
    private static partial Regex CsAccountKey();

    [GeneratedRegex(@"RedisKeys\.Outbox\(")]
    private static partial Regex CsOutbox();

    [GeneratedRegex(@"(?:\w*(?:Key|Index)\s*=|\)\s*=>)\s*\$?""([a-z]+):")]
    private static partial Regex CsGlobalKey();

    /// <summary>The table of docs/architecture.md: prefix → owner and the services it is shared with.</summary>
    private sealed class OwnershipTable(Dictionary<string, (string Owner, string Shared)> rows)
    {
        public static OwnershipTable Read(string architectureMd)
        {
            var text = File.ReadAllText(architectureMd);
            var start = text.IndexOf("## Key ownership", StringComparison.Ordinal);
            Assert.True(start >= 0, "docs/architecture.md has no 'Key ownership' section");
            var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            var rows = new Dictionary<string, (string, string)>();
            foreach (var line in text[start..(end < 0 ? text.Length : end)].Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
            {
                var cells = line.Split('|');
                foreach (Match prefix in Regex.Matches(cells[1], "`([^`]+)`"))
                    rows.Add(prefix.Groups[1].Value, (cells[2].Trim(), cells[3]));
            }
            Assert.NotEmpty(rows);
            return new OwnershipTable(rows);
        }

        public List<string> Violations(IEnumerable<KeyUse> uses)
        {
            var violations = new List<string>();
            foreach (var u in uses)
            {
                if (!rows.TryGetValue(u.Prefix, out var row))
                    violations.Add($"{u.Where}: prefix {u.Prefix} ({u.Service}) is not in the ownership table");
                else if (row.Owner != u.Service && !Regex.IsMatch(row.Shared, $@"\b{Regex.Escape(u.Service)}\b"))
                    violations.Add($"{u.Where}: {u.Service} touches {u.Prefix}, owned by {row.Owner} and not shared with {u.Service}");
            }
            return violations.Distinct().ToList();
        }
    }
}
