using System.Diagnostics;
using StackExchange.Redis;

namespace FaceId.TestKit;

/// <summary>
/// A Redis Cluster of N masters, each with R replicas (default none), made of real redis-server processes on
/// free loopback ports, created with <c>redis-cli --cluster create</c>, ready when every node reports
/// <c>cluster_state:ok</c> and every replica's link to its master is up. For tests that must hold on a cluster
/// (hash-tagged keys, one slot per script) and fault tests (kill a node: <see cref="Nodes"/>; find the master of
/// a key and its replica: <see cref="MasterOfAsync"/>, <see cref="ReplicaOfAsync"/>).
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly List<RedisServer> _nodes;

    private RedisCluster(List<RedisServer> nodes) => _nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>Every node, comma separated: a StackExchange.Redis configuration string.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(n => n.ConnectionString));

    /// <param name="replicasPerMaster">Replicas of each master (redis-cli --cluster-replicas): 1 gives six processes for three masters.</param>
    /// <param name="extraArgs">Appended to every node's command line, e.g. <c>--appendonly yes --appendfsync always</c>.</param>
    public static async Task<RedisCluster> StartAsync(int masters = 3, int nodeTimeoutMs = 5_000, int replicasPerMaster = 0, params string[] extraArgs)
    {
        if (masters < 3) throw new ArgumentOutOfRangeException(nameof(masters), "redis-cli --cluster create needs at least 3 masters.");
        var cli = RedisServer.FindExecutable("redis-cli") ?? throw new RedisServerNotFoundException(RedisServer.InstallHint + " (redis-cli is missing)");
        var nodes = new List<RedisServer>();
        var cluster = new RedisCluster(nodes);
        try
        {
            var starting = Enumerable.Range(0, masters * (1 + replicasPerMaster)).Select(_ => StartNodeAsync(nodeTimeoutMs, extraArgs)).ToList();
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                nodes.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result)); // disposed below on failure
            }

            await RunCliAsync(cli, ["--cluster", "create", .. nodes.Select(n => n.ConnectionString), "--cluster-replicas", replicasPerMaster.ToString(), "--cluster-yes"]);
            await cluster.WaitUntilOkAsync();
            if (replicasPerMaster > 0) await cluster.WaitUntilReplicasInSyncAsync();
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

    /// <summary>
    /// Waits until every running node agrees on the topology (<c>cluster_state:ok</c>, each slot's master known)
    /// and every running replica has its link to its master up and caught up (offsets equal).
    /// </summary>
    public async Task WaitUntilReplicasInSyncAsync()
    {
        await WaitUntilOkAsync();
        await Eventually.AssertAsync(async () =>
        {
            foreach (var node in _nodes.Where(n => n.IsRunning))
            {
                var info = Fields(await node.CommandAsync("INFO", "replication"));
                if (info.GetValueOrDefault("role") != "slave") continue;
                if (info.GetValueOrDefault("master_link_status") != "up") return false;
                var master = _nodes.FirstOrDefault(n => n.Port.ToString() == info.GetValueOrDefault("master_port"));
                if (master is null || !master.IsRunning) return false;
                var masterInfo = Fields(await master.CommandAsync("INFO", "replication"));
                if (masterInfo.GetValueOrDefault("master_repl_offset") != info.GetValueOrDefault("slave_repl_offset")) return false;
            }
            return true;
        }, ReadyTimeout, "every replica linked to its master and caught up");
    }

    /// <summary>The node that is master of <paramref name="key"/>'s slot now, as the running nodes see it.</summary>
    public async Task<RedisServer> MasterOfAsync(string key)
    {
        var slot = int.Parse((await FirstRunning().CommandAsync("CLUSTER", "KEYSLOT", key))!);
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            var info = Fields(await node.CommandAsync("INFO", "replication"));
            if (info.GetValueOrDefault("role") != "master") continue;
            var nodes = await node.CommandAsync("CLUSTER", "NODES") ?? "";
            var myself = nodes.Split('\n').FirstOrDefault(l => l.Contains("myself", StringComparison.Ordinal)) ?? "";
            if (OwnsSlot(myself, slot)) return node;
        }
        throw new InvalidOperationException($"no running master owns slot {slot} of '{key}'");
    }

    /// <summary>The running replica of <paramref name="master"/>.</summary>
    public async Task<RedisServer> ReplicaOfAsync(RedisServer master)
    {
        foreach (var node in _nodes.Where(n => n.IsRunning && n != master))
        {
            var info = Fields(await node.CommandAsync("INFO", "replication"));
            if (info.GetValueOrDefault("role") == "slave" && info.GetValueOrDefault("master_port") == master.Port.ToString()) return node;
        }
        throw new InvalidOperationException($"{master} has no running replica");
    }

    /// <summary>A node's "k:v" INFO lines as a dictionary.</summary>
    private static Dictionary<string, string> Fields(string? info) =>
        (info ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Contains(':') && !l.StartsWith('#'))
            .Select(l => l.Split(':', 2)).GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.First()[1]);

    /// <summary>Whether a CLUSTER NODES line lists <paramref name="slot"/> among its ranges ("0-5460 10923").</summary>
    private static bool OwnsSlot(string nodesLine, int slot) => nodesLine.Split(' ').Skip(8).Any(range =>
    {
        if (range.StartsWith('[')) return false; // a slot being migrated
        var parts = range.Split('-');
        var from = int.Parse(parts[0]);
        var to = parts.Length > 1 ? int.Parse(parts[1]) : from;
        return slot >= from && slot <= to;
    });

    private RedisServer FirstRunning() => _nodes.First(n => n.IsRunning);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
    }

    private static async Task<RedisServer> StartNodeAsync(int nodeTimeoutMs, string[] extraArgs)
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
                [
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", nodeTimeoutMs.ToString(),
                    "--cluster-port", busPort.ToString(),
                    // A master serves a (re)attached replica at once, not after the default 5-s wait for others.
                    "--repl-diskless-sync-delay", "0",
                    .. extraArgs,
                ]);
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
