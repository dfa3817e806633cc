using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.Examples.Tests;

/// <summary>
/// Every shell block of README.md, docs/api.md and deploy/README.md that calls faceidctl, curl or
/// ./faceid runs in bash, as pasted, in reading order, against a real local platform that the
/// documents themselves start (`./faceid run --detach`). Variables a block sets ($ACCOUNT, …) and
/// the token it loads carry over to the next block, as they would in a user's terminal. The run
/// happens in a scratch folder that mirrors the repository through symbolic links, so its .run/
/// (key, token, Redis data, logs) is its own.
/// </summary>
public sealed class DocumentedExamplesTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Lines never run here, and why.</summary>
    private static readonly Dictionary<string, string> NotRunHere = new()
    {
        ["./faceid test"] = "the command that runs this very test",
        ["./faceid run"] = "the same as ./faceid run --detach (which runs), then waiting for Ctrl-C",
    };

    /// <summary>Ports of the local run (README, "Ports"): they must be free for the documented commands to work.</summary>
    private static readonly int[] LocalRunPorts = [5101, 5102, 5103, 5104, 5105, 5201, 5202, 5203, 5204, 5205, 6380];

    private static readonly TimeSpan BlockTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan FollowFor = TimeSpan.FromSeconds(4);

    private readonly string _work = Path.Combine(Path.GetTempPath(), "faceid-examples-" + Guid.NewGuid().ToString("N")[..8]);
    private bool _started;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        foreach (var entry in Directory.EnumerateFileSystemEntries(DocBlocks.RepoRoot))
        {
            var name = Path.GetFileName(entry);
            if (name is ".run" or ".git") continue;
            File.CreateSymbolicLink(Path.Combine(_work, name), entry);
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_started) await RunBashAsync("./faceid stop", TimeSpan.FromMinutes(1));
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public void The_documents_mark_their_examples_so_that_they_can_run()
    {
        Assert.True(DocBlocks.All.Count(b => b.Runnable && b.File == "README.md") >= 3, "README.md should have runnable examples");
        Assert.True(DocBlocks.All.Count(b => b.Runnable && b.File == "docs/api.md") >= 1, "docs/api.md should have runnable examples");
        foreach (var block in DocBlocks.All)
        {
            Assert.False(block.Mixed, $"{block} mixes commands that run here (faceidctl, curl, ./faceid) with ones that need a cluster, a container engine, grpcurl or a build: split the block");
            if (block.UsesGrpcurl)
            {
                var lines = File.ReadAllLines(Path.Combine(DocBlocks.RepoRoot, block.File));
                var before = string.Join('\n', lines[Math.Max(0, block.Line - 10)..(block.Line - 1)]);
                Assert.True((before + block.Text).Contains("equivalent", StringComparison.OrdinalIgnoreCase),
                    $"{block}: a grpcurl example must say which tested faceidctl or curl call it is equivalent to (grpcurl is not installable here)");
            }
        }
        foreach (var file in DocBlocks.Documents)
        {
            var text = File.ReadAllLines(Path.Combine(DocBlocks.RepoRoot, file));
            for (var i = 0; i < text.Length; i++)
                if (text[i].Trim() == "```" && i + 1 < text.Length && DocBlocks.PlatformCall().IsMatch(text[i + 1]) && !IsClosingFence(text, i))
                    Assert.Fail($"{file}:{i + 1}: a command block without a language: mark it ```bash so that it is tested");
        }
    }

    [Fact]
    public async Task Every_documented_command_block_runs_as_pasted()
    {
        Assert.True(AssemblyConfiguration == "Release",
            $"the documented faceidctl path is the Release build that ./faceid run makes: run this test with -c Release (./faceid test does), not {AssemblyConfiguration}");
        foreach (var port in LocalRunPorts)
            Assert.True(IsFree(port), $"port {port} of the local run is in use: stop a running platform (./faceid stop) before running this test");

        var baseline = Path.Combine(_work, ".examples-baseline");
        var state = Path.Combine(_work, ".examples-state");
        await File.WriteAllTextAsync(state, "");
        var names = await RunBashAsync("compgen -v", TimeSpan.FromSeconds(30));
        await File.WriteAllTextAsync(baseline, names.Output);

        var failures = new List<string>();
        var deferred = new List<CommandLine>();
        var ran = 0;
        foreach (var block in DocBlocks.All)
        {
            if (!block.Runnable)
            {
                output.WriteLine($"skip {block}: {(block.Commands.Count == 0 ? "no commands" : "needs " + string.Join(", ", block.Commands.Where(c => c.NeedsElsewhere).Select(c => c.Command).Distinct()) + (block.Commands.Any(c => c.CallsPlatform) ? "" : " only"))}");
                continue;
            }
            var script = new StringBuilder();
            foreach (var command in block.Commands)
            {
                var bare = command.Code;
                if (NotRunHere.TryGetValue(bare, out var why)) { output.WriteLine($"  {block.File}:{command.Line} not run: `{bare}` is {why}"); continue; }
                if (bare == "./faceid stop") { deferred.Add(command); continue; }
                if (bare.StartsWith("./faceid run", StringComparison.Ordinal)) _started = true;
                script.AppendLine(command.Text.Contains("until Ctrl-C", StringComparison.Ordinal) ? Bounded(bare) : command.Text);
            }
            var sw = Stopwatch.StartNew();
            var result = await RunBashAsync(Prelude(state) + script + Epilogue(state, baseline), BlockTimeout);
            ran++;
            output.WriteLine($"{(result.ExitCode == 0 ? "ok  " : "FAIL")} {block} ({sw.Elapsed.TotalSeconds:0.0} s)");
            output.WriteLine(Indent(result.Output));
            if (result.ExitCode != 0)
                failures.Add($"{block} exited {result.ExitCode}:\n{block.Text}\n--- output ---\n{Tail(result.Output, 40)}");
        }
        foreach (var stop in deferred)
        {
            var result = await RunBashAsync(Prelude(state) + stop.Text, TimeSpan.FromMinutes(1));
            if (result.ExitCode != 0) failures.Add($"{stop.Line}: ./faceid stop exited {result.ExitCode}:\n{result.Output}");
            else _started = false;
        }
        Assert.True(ran >= 4, $"only {ran} example blocks ran");
        Assert.True(failures.Count == 0, $"{failures.Count} documented example block(s) failed:\n\n" + string.Join("\n\n", failures));
    }

    private static string AssemblyConfiguration =>
        typeof(DocumentedExamplesTests).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private string Prelude(string state) => $$"""
        set -eo pipefail
        shopt -s expand_aliases
        # An HTTP error fails the example, as its status would tell a reader; exit 23 (write error) only
        # means a `| head` stopped reading, which a reader's terminal never reports.
        curl() { command curl --fail-with-body "$@" || { local rc=$?; [ $rc -eq 23 ] || return $rc; }; }
        cd '{{_work}}'
        source '{{state}}'

        """;

    /// <summary>Keeps what a block set (variables, aliases) for the next one, as a terminal would.</summary>
    private static string Epilogue(string state, string baseline) => $$"""

        { alias -p; for __v in $(compgen -v); do
            case "$__v" in __v|__bg) continue ;; esac
            grep -qxF "$__v" '{{baseline}}' || declare -p "$__v"
          done; } > '{{state}}.new' && mv '{{state}}.new' '{{state}}'
        """;

    /// <summary>A command that runs until Ctrl-C (e.g. --follow): started, given a few seconds, then stopped; it must not fail before.</summary>
    private static string Bounded(string command) => $"""
        {command} &
        __bg=$!; sleep {FollowFor.TotalSeconds:0}
        if kill -0 $__bg 2>/dev/null; then kill -TERM $__bg; wait $__bg || true; else wait $__bg; fi
        """;

    private static bool IsClosingFence(string[] lines, int index) =>
        lines.Take(index).Count(l => l.TrimStart().StartsWith("```", StringComparison.Ordinal)) % 2 == 1;

    private async Task<(int ExitCode, string Output)> RunBashAsync(string script, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = _work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        // A newcomer's terminal: no token, no key; the documented steps provide them.
        foreach (var name in new[] { "FACEID_TOKEN", "Auth__SigningKey", "FACEID_TEST_REDIS", "OTEL_EXPORTER_OTLP_ENDPOINT" })
            start.Environment.Remove(name);
        start.Environment["FACEID_SKIP_BUILD"] = "1";   // dotnet test built it already
        start.Environment["FACEID_DASHBOARD"] = "0";    // the trace view has a test of its own
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var text = new StringBuilder();
        var lockObj = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lockObj) text.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lockObj) text.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (lockObj) text.AppendLine($"[timed out after {timeout.TotalSeconds:0} s]");
            return (-1, text.ToString());
        }
        process.WaitForExit();
        lock (lockObj) return (process.ExitCode, text.ToString());
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Indent(string text) => string.Join('\n', text.TrimEnd().Split('\n').Select(l => "    " + l));

    private static string Tail(string text, int lines)
    {
        var all = text.TrimEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
