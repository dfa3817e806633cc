using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace FaceId.LoadGen;

/// <summary>
/// Turns the run's JSON lines (load runs, redis-benchmark runs, per-scenario CPU profile, memory
/// measurements, environment) into the markdown written to tests/Benchmarks/results/latest.md.
/// </summary>
public static class Report
{
    public static int Write(string inPath, string outPath, string? svgPath = null)
    {
        var lines = File.ReadAllLines(inPath).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var env = lines.Where(l => S(l, "kind") == "env").ToList();
        var grpc = lines.Where(l => S(l, "kind") == "grpc").ToList();
        var allRedis = lines.Where(l => S(l, "kind") == "redis-benchmark").ToList();
        // The ceilings are deduct.lua's; other scripts (proposals) are listed, never compared against.
        var redis = allRedis.Where(r => S(r, "script") is "" or "deduct.lua").ToList();
        var profiles = grpc.Where(g => g["wallSec"] is not null).ToList();
        var memory = lines.Where(l => S(l, "kind") == "memory").ToList();
        var md = new StringBuilder();
        var phases = grpc.Select(g => S(g, "phase")).Concat(redis.Select(r => S(r, "phase"))).Distinct().ToList();

        md.AppendLine("# Benchmark results");
        md.AppendLine();
        foreach (var e in env) md.AppendLine($"- **{S(e, "key")}**: {S(e, "value")}");
        md.AppendLine();

        // Targets first.
        var targets = new List<(string Target, string Measured, string Threshold, bool? Pass)>();
        const string P = "always";
        var pings = grpc.Where(g => S(g, "role") == "ping").ToList();
        var unary = grpc.Where(g => S(g, "role") == "unary").ToList();
        // Ping and RecordUsage alternate (round after round) at each concurrency: compare pooled rates.
        static double Pooled(IEnumerable<JsonObject> runs, string what) =>
            runs.Sum(r => D(r, what)) / Math.Max(1e-9, runs.Sum(r => D(r, "seconds")));
        static double Median(IEnumerable<double> values)
        {
            var v = values.OrderBy(x => x).ToArray();
            return v.Length == 0 ? 0 : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        }
        var pairs = new List<(string Phase, double Conc, double Unary, double Ping, double P50, double P99, int Runs)>();
        foreach (var phase in phases)
            foreach (var conc in unary.Where(u => S(u, "phase") == phase).Select(u => D(u, "concurrency")).Distinct().OrderBy(c => c))
            {
                var u = unary.Where(x => S(x, "phase") == phase && D(x, "concurrency") == conc).ToList();
                var p = pings.Where(x => S(x, "phase") == phase && D(x, "concurrency") == conc).ToList();
                if (p.Count == 0) continue;
                pairs.Add((phase, conc, Pooled(u, "calls"), Pooled(p, "calls"), Median(u.Select(x => D(x, "p50Ms"))), Median(u.Select(x => D(x, "p99Ms"))), u.Count));
            }
        // The ceiling is Ping's best throughput at any concurrency of the phase; RecordUsage is taken at
        // its own best concurrency (its throughput grows with concurrency: the coalescer puts more
        // requests in each script call). The ratio at each concurrency is in the table below.
        foreach (var phase in phases)
        {
            var best = pairs.Where(x => x.Phase == phase).OrderByDescending(x => x.Unary).FirstOrDefault();
            if (best.Phase is null) continue;
            var ceiling = pairs.Where(x => x.Phase == phase).OrderByDescending(x => x.Ping).First();
            var ratio = best.Unary / ceiling.Ping;
            targets.Add(($"unary RecordUsage (best: c={best.Conc:F0}) vs the Ping ceiling (best: c={ceiling.Conc:F0}) (appendfsync {phase}, {best.Runs} alternating run(s) each)",
                $"{best.Unary:N0} / {ceiling.Ping:N0} calls/s = **{ratio:F2}×** (RecordUsage p50 {best.P50:F2} ms, p99 {best.P99:F2} ms; " +
                $"{best.Unary / best.Ping:F2}× of Ping at c={best.Conc:F0})",
                "≥ 0.50×", phase == P ? ratio >= 0.5 : null));
        }
        foreach (var phase in phases)
        {
            var best = grpc.Where(g => S(g, "role") == "batch" && S(g, "phase") == phase).OrderByDescending(g => D(g, "recordsPerSec")).FirstOrDefault();
            if (best is null) continue;
            var ceiling = redis.Where(r => S(r, "phase") == phase).Select(r => D(r, "rps") * Math.Max(1, D(r, "recordsPerCall"))).DefaultIfEmpty(0).Max();
            targets.Add(($"batch RecordUsageBatch (appendfsync {phase}; best: batch {D(best, "batchSize"):F0}, c={D(best, "concurrency"):F0})",
                $"**{D(best, "recordsPerSec"):N0} records/s** (p50 {D(best, "p50Ms"):F1} ms, p99 {D(best, "p99Ms"):F1} ms per call; " +
                $"{(ceiling > 0 ? D(best, "recordsPerSec") / ceiling : 0):F2}× the best Redis ceiling, {ceiling:N0} records/s)",
                "≥ 150,000 records/s", phase == P ? D(best, "recordsPerSec") >= 150_000 : null));
        }
        foreach (var kind in new[] { "unary", "batch" })
        {
            var one = grpc.Where(g => S(g, "role") == $"pkg1-{kind}").ToList();
            var many = grpc.Where(g => S(g, "role") == $"pkg10k-{kind}").ToList();
            if (one.Count == 0 || many.Count == 0) continue;
            // Runs alternate 1, 10k, 1, 10k…: compare the pooled rates (records over seconds of all runs).
            double Rate(List<JsonObject> runs) => runs.Sum(r => D(r, "records")) / runs.Sum(r => D(r, "seconds"));
            var ratio = Rate(many) / Rate(one);
            targets.Add(($"{kind}: 10,000 packages vs 1 package on one account ({many.Count} alternating run(s) each)",
                $"{Rate(many):N0} / {Rate(one):N0} records/s = **{ratio:F2}×**", "≥ 0.90×", ratio >= 0.9));
        }
        {
            // Acknowledged after replication: the interleaved rounds of run.sh --replica (the replica detached, attached
            // with WAIT, attached without), compared by their pooled rates.
            // Each phase at its best number of batches in flight (more in flight hides the replica's round trip).
            List<JsonObject> Replica(string phase) => grpc.Where(g => S(g, "role") == "batch-replica" && S(g, "phase") == phase).ToList();
            double Rate(IEnumerable<JsonObject> runs) => runs.Sum(r => D(r, "records")) / Math.Max(1e-9, runs.Sum(r => D(r, "seconds")));
            (double Rate, double Conc, int Rounds) Best(string phase) => Replica(phase).GroupBy(r => D(r, "concurrency"))
                .Select(g => (Rate(g), g.Key, g.Count())).DefaultIfEmpty((0, 0, 0)).MaxBy(x => x.Item1);
            var (none, wait, nowait) = (Best("replica-none"), Best("replica-wait"), Best("replica-nowait"));
            if (none.Rate > 0 && wait.Rate > 0)
            {
                var ratio = wait.Rate / none.Rate;
                targets.Add(($"batch with one replica, answered after WAIT (Redis:ReplicaAcks=1), vs no replica ({none.Rounds} interleaved round(s); batch 5000, each at its best of c=4 and c=8)",
                    $"{wait.Rate:N0} (c={wait.Conc:F0}) / {none.Rate:N0} (c={none.Conc:F0}) records/s = **{ratio:F2}×** (the replica without WAIT: {nowait.Rate:N0} records/s, {nowait.Rate / none.Rate:F2}×)",
                    "≥ 0.70×", ratio >= 0.7));
            }
        }
        foreach (var (name, limit, label) in new[] { ("package", 256.0, "Redis memory per package"), ("idempotency key", 128.0, "Redis memory per idempotency key"), ("billing request id", 128.0, "Billing's Redis memory per applied call") })
        {
            var headline = memory.FirstOrDefault(m => S(m, "name").StartsWith(name, StringComparison.Ordinal) && S(m, "headline") == "true");
            if (headline is null) continue;
            targets.Add(($"{label} ({S(headline, "method")})", $"**{D(headline, "bytes"):F0} bytes**", $"≤ {limit:F0} bytes", D(headline, "bytes") <= limit));
        }
        var openLoop = lines.Where(l => S(l, "kind") == "open-loop").ToList();
        var h2 = lines.Where(l => S(l, "kind") == "h2load").ToList();
        targets.AddRange(OpenLoopTargets(openLoop));
        targets.AddRange(CostTargets(h2, grpc));
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| target | measured | threshold | result |");
        md.AppendLine("|---|---|---|---|");
        foreach (var t in targets)
            md.AppendLine($"| {t.Target} | {t.Measured} | {t.Threshold} | {(t.Pass is null ? "(info)" : t.Pass.Value ? "PASS" : "**FAIL**")} |");
        md.AppendLine();

        if (pairs.Count > 0)
        {
            md.AppendLine("## Unary RecordUsage vs the Ping ceiling, by concurrency (pooled over the alternating runs)");
            md.AppendLine();
            md.AppendLine("| appendfsync | concurrency | Ping calls/s | RecordUsage calls/s | ratio | RecordUsage p50 ms | RecordUsage p99 ms |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var x in pairs)
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {x.Phase} | {x.Conc:F0} | {x.Ping:N0} | {x.Unary:N0} | {x.Unary / x.Ping:F2}× | {x.P50:F2} | {x.P99:F2} |"));
            md.AppendLine();
        }

        // Redis ceilings.
        md.AppendLine("## Redis ceiling: `redis-benchmark` running the deduction script by EVALSHA");
        md.AppendLine();
        md.AppendLine("| appendfsync | script | records per call | pipeline | clients | calls | calls/s | records/s | avg ms | p50 ms | p99 ms | max ms |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in allRedis)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {S(r, "phase")} | {(S(r, "script") is "" or "deduct.lua" ? "deduct.lua" : S(r, "script") + " (proposal)")} | {Math.Max(1, D(r, "recordsPerCall")):F0} | {D(r, "pipeline"):F0} | {D(r, "clients"):F0} | {D(r, "requests"):N0} | {D(r, "rps"):N0} | " +
                $"{D(r, "rps") * Math.Max(1, D(r, "recordsPerCall")):N0} | {D(r, "avgMs"):F3} | {D(r, "p50Ms"):F3} | {D(r, "p99Ms"):F3} | {D(r, "maxMs"):F3} |"));
        md.AppendLine();

        // Every gRPC run.
        md.AppendLine("## gRPC runs (same load generator; closed loop; latency per call)");
        md.AppendLine();
        md.AppendLine("| appendfsync | run | method | conc. | conns | batch | calls/s | records/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | vs ceiling | errors |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var g in grpc)
        {
            var phase = S(g, "phase");
            string vs = "";
            if (S(g, "method") == "RecordUsage")
            {
                // The Ping run of the same round (ping-cN-rK next to unary-cN-rK), else any at that concurrency.
                var round = S(g, "name") is var n && n.LastIndexOf("-r", StringComparison.Ordinal) is var k and > 0 ? n[k..] : "";
                var same = pings.Where(p => S(p, "phase") == phase && D(p, "concurrency") == D(g, "concurrency")).ToList();
                var ping = same.FirstOrDefault(p => round.Length > 0 && S(p, "name").EndsWith(round, StringComparison.Ordinal)) ?? same.FirstOrDefault();
                if (ping is not null) vs = $"{D(g, "callsPerSec") / D(ping, "callsPerSec"):F2}× {S(ping, "name")}";
            }
            else if (S(g, "method") == "RecordUsageBatch")
            {
                var p16 = redis.FirstOrDefault(r => S(r, "phase") == phase && D(r, "pipeline") == 16);
                var batchCeiling = redis.FirstOrDefault(r => S(r, "phase") == phase && D(r, "recordsPerCall") > 1);
                if (p16 is not null) vs = $"{D(g, "recordsPerSec") / D(p16, "rps"):F2}× -P16";
                if (batchCeiling is not null) vs += $", {D(g, "recordsPerSec") / (D(batchCeiling, "rps") * D(batchCeiling, "recordsPerCall")):F2}× {D(batchCeiling, "recordsPerCall"):F0}/call";
            }
            var errors = D(g, "errors") + D(g, "invalid");
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {phase} | {S(g, "name")} | {S(g, "method")}{(B(g, "replay") ? " (replay)" : "")} | {D(g, "concurrency"):F0} | {D(g, "connections"):F0} | {D(g, "batchSize"):F0} | " +
                $"{D(g, "callsPerSec"):N0} | {D(g, "recordsPerSec"):N0} | {D(g, "p50Ms"):F2} | {D(g, "p90Ms"):F2} | {D(g, "p99Ms"):F2} | {D(g, "p999Ms"):F2} | {D(g, "maxMs"):F1} | {vs} | {errors:F0}{(errors > 0 ? " " + S(g, "errorDetail") + S(g, "firstInvalid") : "")} |"));
        }
        md.AppendLine();

        if (profiles.Count > 0)
        {
            md.AppendLine("## Where the time goes (timed window; CPU in % of one core, 200 % = both cores; ⚠ = other processes used > 25 % of a core)");
            md.AppendLine();
            md.AppendLine("| appendfsync | run | wall s | redis-server CPU | Metering CPU | load generator CPU | other CPU | EVALSHA calls | µs per EVALSHA | µs per record in Lua | Redis busy in EVALSHA |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var p in profiles)
            {
                var wall = D(p, "wallSec");
                string Pct(string f) => wall > 0 ? $"{100 * D(p, f) / wall:F0} %" : "";
                var calls = D(p, "evalshaCalls");
                var usec = D(p, "evalshaUsec");
                var records = D(p, "records");
                var noisy = wall > 0 && D(p, "otherCpuSec") / wall > 0.25 ? " ⚠" : "";
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {S(p, "phase")} | {S(p, "name")} | {wall:F1} | {Pct("redisCpuSec")} | {Pct("meteringCpuSec")} | {Pct("loadgenCpuSec")} | {Pct("otherCpuSec")}{noisy} | {calls:N0} | " +
                    $"{(calls > 0 ? usec / calls : 0):F1} | {(records > 0 ? usec / records : 0):F2} | {(wall > 0 ? 100 * usec / 1e6 / wall : 0):F0} % |"));
            }
            md.AppendLine();
        }

        var drains = lines.Where(l => S(l, "kind") == "drain").ToList();
        if (drains.Count > 0)
        {
            md.AppendLine("## Outbox relay: entries left in the outboxes when a run ended, and the time the relays took to empty them");
            md.AppendLine();
            md.AppendLine("| appendfsync | run | entries left | seconds to drain |");
            md.AppendLine("|---|---|---|---|");
            foreach (var d in drains)
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {S(d, "phase")} | {S(d, "name")} | {D(d, "backlog"):N0} | {D(d, "seconds"):F0} |"));
            md.AppendLine();
        }

        if (memory.Count > 0)
        {
            md.AppendLine("## Redis memory");
            md.AppendLine();
            md.AppendLine("| what | bytes | method |");
            md.AppendLine("|---|---|---|");
            foreach (var m in memory)
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {S(m, "name")}{(S(m, "headline") == "true" ? " (headline)" : "")} | {D(m, "bytes"):F0} | {S(m, "method")} |"));
            md.AppendLine();
        }

        OpenLoopSection(md, openLoop, svgPath);
        CostSection(md, h2, grpc);

        File.WriteAllText(outPath, md.ToString());
        Console.WriteLine(md.ToString());
        return 0;
    }

    /// <summary>The open-loop runs at one load level: Ping, RecordUsage and the Redis floor at the same rate.</summary>
    /// <summary>The open-loop levels per phase (appendfsync, or a replica phase), in the order the phases ran.</summary>
    private static IEnumerable<(string Phase, double Percent, double Rate, JsonObject? Ping, JsonObject? Unary, JsonObject? Floor)> Levels(List<JsonObject> runs) =>
        runs.GroupBy(r => (Phase: S(r, "phase"), Percent: D(r, "percent"))).OrderBy(g => runs.FindIndex(r => S(r, "phase") == g.Key.Phase)).ThenBy(g => g.Key.Percent)
            .Select(g => (g.Key.Phase, g.Key.Percent, g.Select(r => D(r, "rate")).DefaultIfEmpty(0).Max(),
                g.LastOrDefault(r => S(r, "role") == "open-ping"), g.LastOrDefault(r => S(r, "role") == "open-unary"), g.LastOrDefault(r => S(r, "role") == "open-floor")));

    /// <summary>The phase whose open loop the target judges (the issue's set-up: appendfsync always); the replica phases are information.</summary>
    private const string OpenLoopTargetPhase = "always";

    private static IEnumerable<(string, string, string, bool?)> OpenLoopTargets(List<JsonObject> runs)
    {
        foreach (var l in Levels(runs).Where(l => l.Percent == 50 && l.Ping is not null && l.Unary is not null && l.Floor is not null))
        {
            var bound = D(l.Ping!, "p99Ms") + 2 * D(l.Floor!, "p99Ms");
            var ok = D(l.Unary!, "p99Ms") <= bound && !B(l.Unary!, "failed") && !B(l.Ping!, "failed");
            yield return (string.Create(CultureInfo.InvariantCulture, $"open loop at 50 % of RecordUsage's maximum ({l.Rate:N0} calls/s), appendfsync {l.Phase}: RecordUsage p99 vs Ping p99 + 2 × the Redis floor's p99"),
                string.Create(CultureInfo.InvariantCulture, $"**{D(l.Unary!, "p99Ms"):F2} ms** vs {D(l.Ping!, "p99Ms"):F2} + 2 × {D(l.Floor!, "p99Ms"):F2} = {bound:F2} ms"),
                "RecordUsage p99 ≤ Ping p99 + 2 × floor p99", l.Phase == OpenLoopTargetPhase ? ok : null);
        }
    }

    /// <summary>Server CPU (Metering + redis-server) per call, in microseconds.</summary>
    private static double CpuPerCallUs(JsonObject r) =>
        D(r, "calls") > 0 ? 1e6 * (D(r, "meteringCpuSec") + D(r, "redisCpuSec")) / D(r, "calls") : 0;

    private static IEnumerable<(string, string, string, bool?)> CostTargets(List<JsonObject> h2, List<JsonObject> grpc)
    {
        var valid = h2.LastOrDefault(r => S(r, "role") == "h2-replay");
        var invalid = h2.LastOrDefault(r => S(r, "role") == "h2-invalid");
        if (valid is not null && invalid is not null)
        {
            var ratio = D(invalid, "rps") / Math.Max(1e-9, D(valid, "rps"));
            yield return (string.Create(CultureInfo.InvariantCulture, $"h2load, {S(valid, "shape")}: RecordUsage refused with INVALID_ARGUMENT vs valid RecordUsage (a replayed id; h2load sends one body)"),
                string.Create(CultureInfo.InvariantCulture, $"{D(invalid, "rps"):N0} / {D(valid, "rps"):N0} calls/s = **{ratio:F2}×** (server CPU per call {CpuPerCallUs(invalid):F0} / {CpuPerCallUs(valid):F0} µs)"),
                "≥ 0.90×", ratio >= 0.9);
        }
        // A new RecordUsage needs a fresh id per call (h2load cannot send one): both sides of the
        // ratio come from the C# load generator's runs (Ping and RecordUsage alternating, pooled over
        // the rounds: the servers' CPU over all their calls), counting the servers' CPU only.
        var pings = grpc.Where(r => S(r, "role") == "cpu-ping").ToList();
        var fresh = grpc.Where(r => S(r, "role") == "cpu-unary").ToList();
        if (pings.Count > 0 && fresh.Count > 0)
        {
            var (pingUs, freshUs) = (PooledCpuPerCallUs(pings), PooledCpuPerCallUs(fresh));
            var ratio = freshUs / Math.Max(1e-9, pingUs);
            var h2Ping = h2.LastOrDefault(r => S(r, "role") == "h2-ping");
            var metering = 1e6 * fresh.Sum(r => D(r, "meteringCpuSec")) / Math.Max(1, fresh.Sum(r => D(r, "calls")));
            yield return ($"server CPU (Metering + redis-server) per new RecordUsage call vs per Ping (c={D(fresh[0], "concurrency"):F0}, {fresh.Count} alternating round(s), pooled)",
                string.Create(CultureInfo.InvariantCulture, $"{freshUs:F0} / {pingUs:F0} µs = **{ratio:F2}×** (RecordUsage: Metering {metering:F0} µs, redis-server {freshUs - metering:F0} µs)") +
                    (h2Ping is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (Ping under h2load: {CpuPerCallUs(h2Ping):F0} µs)")),
                "≤ 3×", ratio <= 3);
        }
    }

    private static double PooledCpuPerCallUs(List<JsonObject> runs) =>
        1e6 * runs.Sum(r => D(r, "meteringCpuSec") + D(r, "redisCpuSec")) / Math.Max(1, runs.Sum(r => D(r, "calls")));

    private static void OpenLoopSection(StringBuilder md, List<JsonObject> runs, string? svgPath)
    {
        if (runs.Count == 0) return;
        md.AppendLine("## Open loop: latency at a fixed rate (from each call's intended send time)");
        md.AppendLine();
        md.AppendLine("| appendfsync | % of RecordUsage's max | rate calls/s | run | achieved calls/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | rate not sustained |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var l in Levels(runs))
            foreach (var r in new[] { l.Ping, l.Unary, l.Floor })
                if (r is not null)
                    md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {l.Phase} | {l.Percent:F0} % | {D(r, "rate"):N0} | {S(r, "method")} | {D(r, "callsPerSec"):N0} | {D(r, "p50Ms"):F2} | {D(r, "p90Ms"):F2} | {D(r, "p99Ms"):F2} | {D(r, "p999Ms"):F2} | {D(r, "maxMs"):F1} | {D(r, "errors") + D(r, "invalid"):F0} {S(r, "errorDetail")} | {S(r, "notSustained")} |"));
        md.AppendLine();
        if (svgPath is null) return;
        File.WriteAllText(svgPath, LatencyPlot.Svg(Levels(runs).Where(l => l.Phase == OpenLoopTargetPhase).Select(l => (l.Rate, l.Ping is null ? double.NaN : D(l.Ping, "p99Ms"),
            l.Unary is null ? double.NaN : D(l.Unary, "p99Ms"), l.Floor is null ? double.NaN : D(l.Floor, "p99Ms"),
            l.Ping is null ? double.NaN : D(l.Ping, "p50Ms"), l.Unary is null ? double.NaN : D(l.Unary, "p50Ms"), l.Floor is null ? double.NaN : D(l.Floor, "p50Ms"))).ToList()));
        md.AppendLine($"The latency curve (appendfsync {OpenLoopTargetPhase}): [{Path.GetFileName(svgPath)}]({Path.GetFileName(svgPath)}).");
        md.AppendLine();
    }

    private static void CostSection(StringBuilder md, List<JsonObject> h2, List<JsonObject> grpc)
    {
        var cpu = grpc.Where(r => S(r, "role").StartsWith("cpu-", StringComparison.Ordinal)).ToList();
        if (h2.Count == 0 && cpu.Count == 0) return;
        md.AppendLine("## Cost per call: throughput and server CPU (Metering + redis-server, /proc utime+stime) per call");
        md.AppendLine();
        md.AppendLine("| client | run | shape | calls | calls/s | Metering CPU s | redis-server CPU s | server CPU per call µs | vs Ping, same client |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        var h2Ping = h2.LastOrDefault(r => S(r, "role") == "h2-ping");
        // Each LoadGen run next to the Ping run of its round (cpu-unary-c64-r2 → cpu-ping-c64-r2).
        JsonObject? RoundPing(JsonObject r) => cpu.LastOrDefault(p => S(p, "name") == S(r, "name").Replace("cpu-unary", "cpu-ping", StringComparison.Ordinal));
        static string Ratio(JsonObject r, JsonObject? ping) => ping is null ? "" : $"{CpuPerCallUs(r) / Math.Max(1e-9, CpuPerCallUs(ping)):F2}×";
        foreach (var r in h2)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| h2load | {S(r, "name")} | {S(r, "shape")} | {D(r, "calls"):N0} | {D(r, "rps"):N0} | {D(r, "meteringCpuSec"):F2} | {D(r, "redisCpuSec"):F2} | {CpuPerCallUs(r):F1} | {Ratio(r, h2Ping)} |"));
        foreach (var r in cpu)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| FaceId.LoadGen | {S(r, "name")} | c={D(r, "concurrency"):F0}, {D(r, "connections"):F0} connections | {D(r, "calls"):N0} | {D(r, "callsPerSec"):N0} | {D(r, "meteringCpuSec"):F2} | {D(r, "redisCpuSec"):F2} | {CpuPerCallUs(r):F1} | {Ratio(r, RoundPing(r))} |"));
        md.AppendLine();
        md.AppendLine("h2load sends one body again and again: its RecordUsage is a replay of one recorded id (or one invalid record). A new");
        md.AppendLine("RecordUsage needs a fresh id per call, so its CPU per call comes from the C# load generator (server CPU only; the");
        md.AppendLine("client's CPU is not counted), next to a Ping run of the same client; Ping under h2load shows how far the figure");
        md.AppendLine("depends on the client (the server's CPU per call also grows when the machine is busier).");
        md.AppendLine();
    }

    private static string S(JsonObject o, string name) => o[name] is { } v ? v.ToString() : "";

    private static double D(JsonObject o, string name) =>
        o[name] is { } v && double.TryParse(v.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0;

    private static bool B(JsonObject o, string name) => o[name] is { } v && v.ToString() == "true";
}
