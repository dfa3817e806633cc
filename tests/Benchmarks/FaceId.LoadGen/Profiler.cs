using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FaceId.LoadGen;

/// <summary>
/// Where the time goes during the timed window, without dotnet-counters: CPU time of named
/// processes (/proc/PID/stat), of this process, of the whole machine (/proc/stat), and Redis's
/// own accounting (INFO commandstats: calls and microseconds per command, EVALSHA included).
/// </summary>
public sealed class Profiler(IReadOnlyDictionary<string, int> pids, int? redisPort)
{
    public sealed record Snapshot(long Timestamp, Dictionary<string, double> CpuSeconds, double SelfCpu, double MachineBusy,
        Dictionary<string, (long Calls, long Usec)> Commands);

    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public async Task<Snapshot> TakeAsync()
    {
        var cpu = new Dictionary<string, double>();
        foreach (var (name, pid) in pids) cpu[name] = ProcessCpu(pid);
        var commands = redisPort is { } port ? await CommandStatsAsync(port) : [];
        return new Snapshot(Stopwatch.GetTimestamp(), cpu, Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, MachineBusy(), commands);
    }

    /// <summary>Differences between two snapshots as JSON-ready values.</summary>
    public static Dictionary<string, double> Delta(Snapshot a, Snapshot b)
    {
        var d = new Dictionary<string, double>
        {
            ["wallSec"] = (b.Timestamp - a.Timestamp) / (double)Stopwatch.Frequency,
            ["loadgenCpuSec"] = b.SelfCpu - a.SelfCpu,
            ["machineCpuSec"] = b.MachineBusy - a.MachineBusy,
        };
        foreach (var (name, v) in b.CpuSeconds) d[name + "CpuSec"] = v - a.CpuSeconds.GetValueOrDefault(name);
        d["otherCpuSec"] = d["machineCpuSec"] - d["loadgenCpuSec"] - b.CpuSeconds.Keys.Sum(n => d[n + "CpuSec"]);
        long Calls(Snapshot s, string c) => s.Commands.TryGetValue(c, out var x) ? x.Calls : 0;
        long Usec(Snapshot s, string c) => s.Commands.TryGetValue(c, out var x) ? x.Usec : 0;
        d["evalshaCalls"] = Calls(b, "evalsha") - Calls(a, "evalsha");
        d["evalshaUsec"] = Usec(b, "evalsha") - Usec(a, "evalsha");
        // Commands sent directly (not from scripts) worth knowing about on the hot path.
        foreach (var c in new[] { "sadd", "xrange", "xdel", "xadd", "set", "hmget" })
            d[c + "Calls"] = Calls(b, c) - Calls(a, c);
        return d;
    }

    private static double ProcessCpu(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state): utime is field 14, stime field 15.
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static double MachineBusy()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait irq softirq steal
        long F(int i) => long.Parse(cpu[i], CultureInfo.InvariantCulture);
        return (F(1) + F(2) + F(3) + F(6) + F(7) + F(8)) / TicksPerSecond;
    }

    /// <summary>INFO commandstats over a bare RESP connection: cmdstat_evalsha:calls=..,usec=..,...</summary>
    public static async Task<Dictionary<string, (long, long)>> CommandStatsAsync(int port)
    {
        var text = await InfoAsync(port, "commandstats");
        var result = new Dictionary<string, (long, long)>();
        foreach (var line in text.Split("\r\n"))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
            var colon = line.IndexOf(':');
            var name = line[8..colon];
            long calls = 0, usec = 0;
            foreach (var kv in line[(colon + 1)..].Split(','))
            {
                var eq = kv.Split('=');
                if (eq[0] == "calls") calls = long.Parse(eq[1], CultureInfo.InvariantCulture);
                else if (eq[0] == "usec") usec = long.Parse(eq[1], CultureInfo.InvariantCulture);
            }
            result[name] = (calls, usec);
        }
        return result;
    }

    public static async Task<string> InfoAsync(int port, string section)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        var cmd = $"*2\r\n$4\r\nINFO\r\n${section.Length}\r\n{section}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(cmd));
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var n = await stream.ReadAsync(chunk);
            if (n == 0) break;
            buffer.Write(chunk, 0, n);
            var text = Encoding.ASCII.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            var header = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (header < 0) continue;
            if (text[0] != '$') throw new InvalidOperationException($"unexpected INFO reply: {text[..Math.Min(80, text.Length)]}");
            var len = int.Parse(text[1..header], CultureInfo.InvariantCulture);
            if (buffer.Length >= header + 2 + len) return text.Substring(header + 2, len);
        }
        throw new IOException("Redis closed the connection during INFO");
    }
}
