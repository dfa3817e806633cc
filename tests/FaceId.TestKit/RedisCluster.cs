using System.Diagnostics;
using StackExchange.Redis;

namespace FaceId.TestKit;

/// <summary>
/// A Redis Cluster of N masters (no replicas) made of real redis-server processes on free loopback
/// ports, created with <c>redis-cli --cluster create</c>, ready when every node reports
/// <c>cluster_state:ok</c>. For tests that must hold on a cluster (hash-tagged keys, one slot per
/// script) and fault tests (kill a node: <see cref="Nodes"/>).
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly List<RedisServer> _nodes;

    private RedisCluster(List<RedisServer> nodes) => _nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>Every node, comma separated: a StackExchange.Redis configuration string.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(n => n.ConnectionString));

    public static async Task<RedisCluster> StartAsync(int masters = 3, int nodeTimeoutMs = 5_000)
    {
        if (masters < 3) throw new ArgumentOutOfRangeException(nameof(masters), "redis-cli --cluster create needs at least 3 masters.");
        var cli = RedisServer.FindExecutable("redis-cli") ?? throw new RedisServerNotFoundException(RedisServer.InstallHint + " (redis-cli is missing)");
        var nodes = new List<RedisServer>();
        var cluster = new RedisCluster(nodes);
        try
        {
            var starting = Enumerable.Range(0, masters).Select(_ => StartNodeAsync(nodeTimeoutMs)).ToList();
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                nodes.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result)); // disposed below on failure
            }

            await RunCliAsync(cli, ["--cluster", "create", .. nodes.Select(n => n.ConnectionString), "--cluster-replicas", "0", "--cluster-yes"]);
            await cluster.WaitUntilOkAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A cluster-aware client over all nodes (admin commands allowed). The caller disposes it.</summary>
    public IConnectionMultiplexer Connect()
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AllowAdmin = true;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5_000;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>Waits until every running node says <c>cluster_state:ok</c>.</summary>
    public async Task WaitUntilOkAsync()
    {
        var clock = Stopwatch.StartNew();
        var delay = 5;
        var last = "";
        while (clock.Elapsed < ReadyTimeout)
        {
            var states = new List<string>();
            foreach (var node in _nodes.Where(n => n.IsRunning))
            {
                try
                {
                    var info = await node.CommandAsync("CLUSTER", "INFO") ?? "";
                    states.Add(info.Contains("cluster_state:ok", StringComparison.Ordinal) ? "ok" : $"{node.Port}: not ok");
                }
                catch (Exception e)
                {
                    states.Add($"{node.Port}: {e.Message}");
                }
            }
            if (states.Count > 0 && states.All(s => s == "ok")) return;
            last = string.Join("; ", states);
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 50);
        }
        throw new TimeoutException($"Redis cluster not ok within {ReadyTimeout.TotalSeconds} s: {last}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
    }

    private static async Task<RedisServer> StartNodeAsync(int nodeTimeoutMs)
    {
        for (var attempt = 0; ; attempt++)
        {
            // The cluster bus port is chosen explicitly (cluster-port, Redis 7) rather than port + 10000,
            // which may be taken or beyond 65535 for an ephemeral port.
            var port = FreePort.Next();
            var busPort = FreePort.Next();
            try
            {
                return await RedisServer.StartAsync(port,
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", nodeTimeoutMs.ToString(),
                    "--cluster-port", busPort.ToString());
            }
            catch (InvalidOperationException e) when (attempt < 4 && e.Message.Contains("Address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // taken meanwhile: try other ports
            }
        }
    }

    private static async Task RunCliAsync(string cli, string[] args)
    {
        var start = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        ChildProcesses.Track(process);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(ReadyTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"redis-cli {string.Join(' ', args)} did not finish within {ReadyTimeout.TotalSeconds} s");
        }
        finally
        {
            ChildProcesses.Forget(process);
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"redis-cli {string.Join(' ', args)} failed ({process.ExitCode}):{Environment.NewLine}{await stdout}{await stderr}");
    }
}
