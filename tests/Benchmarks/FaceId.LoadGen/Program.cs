using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceId.LoadGen;

// FaceId.LoadGen — the benchmark load generator (see tests/Benchmarks/run.sh and docs/benchmarks.md).
//
//   prepare --onboarding URL --packages URL [--accounts 1] [--label L] [--size S] [--purchases M] [--parallel P] [--timeout-seconds 60]
//       opens accounts through Onboarding (approved application → trial), buys M packages each;
//       prints the account ids on stdout, one a line.
//   buy --packages URL --account ID [--label L] [--size S] [--purchases M] [--parallel P]
//       buys M more packages for an opened account.
//   wait --targets URL,URL [--timeout-seconds 60]
//       waits until every service answers DiagnosticsService/Ping.
//   ping|unary|batch --target URL [--accounts a,b] [--concurrency 64] [--connections 4] [--warmup 3] [--duration 10]
//       [--batch-size 1000] [--label basic_authoritative] [--expect package|charged|any] [--replay] [--replay-set 20000]
//       [--max-records N] [--name NAME] [--role ROLE] [--phase PHASE] [--json-out results.jsonl] [--route-by-account]
//       a closed-loop run: warm-up, timed window, every gRPC status and outcome checked; exit code 1 on any error.
//       With --rate R (ping, unary): an open-loop run instead, R calls/s, latency from each call's intended send
//       time (OpenLoop.cs); --percent P labels it as P % of RecordUsage's measured maximum in the report.
//       --target may list several addresses (URL,URL): the connections are split between them, callers
//       alternate; --route-by-account sends each account's calls to one of them (account affinity).
//   floor --redis-port P --args FILE --rate R [--warmup 3] [--duration 10] [--percent P] [--json-out results.jsonl]
//       the Redis floor at a fixed rate: EVALSHA with the arguments of FILE (one a line, __id__ replaced by a
//       fresh request id per call), open loop (RedisFloor.cs).
//   h2body --kind ping|replay|invalid --target URL [--account ID] --out FILE
//       writes a gRPC-framed request body for h2load, checks its answer once, prints the method's path.
//   token
//       prints the bearer token the load generator sends (for h2load's authorization header).
//   report --in results.jsonl --out latest.md [--svg latency.svg]
//       the results table, ratios to the ceilings and the targets; the open-loop latency curve as SVG.
//   script deduct
//       prints deduct.lua as Metering loads it (generated constants, includes), for redis-benchmark.
//   script deduct-call --account ID --now MS [--records 1000] [--label basic_authoritative] [--id PREFIX]
//       prints the number of keys, the keys and the arguments of one deduct.lua call as DeductScript binds it, one a
//       line (the trace context's slots empty): records of one class at one instant, request ids
//       "n-__rand_int__-__rand_int__-<i>" for redis-benchmark to make unique (tests/Benchmarks/deduct-ab.sh).
//   billing-ids --redis-port P --account ID [--records 200000] [--batch-size 5000]
//       applies that many postpaid usage records of one day (36-character request ids) to Billing's
//       statistics through its apply-usage contract, as Billing does for UsageCharged: for Billing's
//       memory per applied call (no Billing process runs in the benchmark).
var command = args.FirstOrDefault() ?? "";
try
{
    var options = new Options(args.Skip(command == "script" ? 2 : 1));
    return command switch
    {
        "prepare" => await PrepareAsync(options),
        "buy" => await BuyAsync(options),
        "wait" => await WaitAsync(options),
        "ping" or "unary" or "batch" => await LoadAsync(command, options),
        "floor" => await FloorAsync(options),
        "h2body" => await H2BodyAsync(options),
        "token" => PrintToken(),
        "report" => Report.Write(options.Require("in"), options.Require("out"), options.Get("svg")),
        "script" when args.ElementAtOrDefault(1) == "deduct" => PrintDeductScript(),
        "script" when args.ElementAtOrDefault(1) == "deduct-call" => PrintDeductCall(options),
        "billing-ids" => await ApplyBillingIdsAsync(options),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync($"loadgen: {e.Message}");
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: FaceId.LoadGen prepare|ping|unary|batch|report|script [--options] (see the header of Program.cs)");
    return 2;
}

static int PrintToken()
{
    Console.Out.Write(ChannelPool.Token ?? throw new ArgumentException("Auth__SigningKey is not set: no token to print"));
    return 0;
}

static async Task<int> H2BodyAsync(Options o)
{
    Console.Out.Write(await GrpcBodies.WriteAsync(o.Require("kind"), o.Require("target"), o.Get("account", ""), o.Require("out")));
    return 0;
}

static async Task<int> FloorAsync(Options o)
{
    using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{o.Require("redis-port")}");
    var floor = new RedisFloor(redis.GetDatabase(), RedisFloor.ReadArguments(o.Require("args")), $"fl{DateTime.UtcNow:HHmmss}{Random.Shared.Next(1000, 9999)}");
    var rate = o.Double("rate", 1000);
    var r = await OpenLoop.RunAsync(rate, TimeSpan.FromSeconds(o.Double("warmup", 3)), TimeSpan.FromSeconds(o.Double("duration", 10)), floor.CallAsync);
    return await WriteResultAsync(o, r, "floor", "EVALSHA deduct.lua (1 record)", o.Get("name", $"floor-{rate:F0}"), 1, 1, 1, false, 0, null, rate);
}

static int PrintDeductScript()
{
    Console.Out.Write(FaceId.Packages.Ledger.DeductScript.Text);
    return 0;
}

static int PrintDeductCall(Options o)
{
    var account = o.Require("account");
    var now = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(o.Require("now"), CultureInfo.InvariantCulture));
    var label = o.Get("label", "basic_authoritative");
    // Request ids: --id, then -<n> when more than one record (redis-benchmark replaces each __rand_int__).
    var id = o.Get("id", "n-__rand_int__-__rand_int__");
    var count = o.Int("records", 1000);
    var records = Enumerable.Range(1, count)
        .Select(i => new FaceId.Packages.Ledger.ChargeRequest(count == 1 ? id : $"{id}-{i}", label, now, true, "", "ACCESS_MODE_SAAS", "0"))
        .ToList();
    var call = FaceId.Packages.Ledger.DeductScript.Instance.Bind(new(account, now, records));
    var output = new System.Text.StringBuilder().Append(call.Keys.Length).Append('\n');
    foreach (var key in call.Keys) output.Append((string?)key).Append('\n');
    foreach (var arg in call.Args) output.Append(arg.IsNull ? "" : (string?)arg).Append('\n');
    Console.Out.Write(output.ToString());
    return 0;
}

static async Task<int> ApplyBillingIdsAsync(Options o)
{
    using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{o.Require("redis-port")}");
    var db = redis.GetDatabase();
    var account = o.Require("account");
    int total = o.Int("records", 200_000), batch = o.Int("batch-size", 5_000);
    var now = DateTimeOffset.UtcNow;
    var day = FaceId.Common.ChinaCalendar.DateOf(now);
    var applied = 0L;
    for (var done = 0; done < total; done += batch)
    {
        var records = Enumerable.Range(0, Math.Min(batch, total - done))
            .Select(_ => new FaceId.Billing.Infrastructure.Scripts.ApplyUsageScript.Record(
                Guid.NewGuid().ToString(), FaceId.Billing.Infrastructure.Scripts.UsageKind.Postpaid, day, "basic_authoritative", 1, ""))
            .ToList();
        var result = await FaceId.Billing.Infrastructure.Scripts.ApplyUsageScript.Instance.RunAsync(db, new(account, records, now, TimeSpan.FromDays(1100)));
        applied += result.Applied;
    }
    await Console.Error.WriteLineAsync($"billing-ids: {applied} of {total} records applied for {account}");
    return applied == total ? 0 : 1;
}

static async Task<int> PrepareAsync(Options o)
{
    using var onboarding = ChannelPool.Create(o.Require("onboarding"));
    using var packages = ChannelPool.Create(o.Require("packages"));
    var prepare = new Prepare(onboarding, packages, Console.Error);
    var count = o.Int("accounts", 1);
    var label = o.Get("label", "basic_authoritative");
    var size = o.Long("size", 1_000_000);
    var purchases = o.Int("purchases", 1);
    var parallel = o.Int("parallel", 16);
    var timeout = TimeSpan.FromSeconds(o.Int("timeout-seconds", 60));
    for (var i = 0; i < count; i++)
    {
        var id = await prepare.OpenAccountAsync(o.Get("name", "account"), timeout);
        await prepare.PurchaseAsync(id, label, size, purchases, parallel);
        Console.WriteLine(id);
    }
    return 0;
}

static async Task<int> BuyAsync(Options o)
{
    using var packages = ChannelPool.Create(o.Require("packages"));
    var prepare = new Prepare(packages, packages, Console.Error);
    await prepare.PurchaseAsync(o.Require("account"), o.Get("label", "basic_authoritative"), o.Long("size", 1_000_000), o.Int("purchases", 1), o.Int("parallel", 16));
    return 0;
}

static async Task<int> WaitAsync(Options o)
{
    var deadline = DateTime.UtcNow.AddSeconds(o.Int("timeout-seconds", 60));
    foreach (var target in o.Require("targets").Split(','))
    {
        using var channel = ChannelPool.Create(target);
        var client = new FaceId.Contracts.Diagnostics.V1.DiagnosticsService.DiagnosticsServiceClient(channel);
        while (true)
        {
            try
            {
                var reply = await client.PingAsync(new FaceId.Contracts.Diagnostics.V1.PingRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                Console.Error.WriteLine($"  {reply.Service} answers on {target}");
                break;
            }
            catch (Grpc.Core.RpcException e)
            {
                if (DateTime.UtcNow > deadline)
                {
                    Console.Error.WriteLine($"  {target} did not answer Ping in time: {e.Status.Detail}");
                    return 1;
                }
                await Task.Delay(50);
            }
        }
    }
    return 0;
}

static async Task<int> LoadAsync(string method, Options o)
{
    var concurrency = o.Int("concurrency", 64);
    var connections = o.Int("connections", Math.Max(1, Math.Min(8, concurrency / 16)));
    var batchSize = method == "batch" ? o.Int("batch-size", 1000) : 1;
    var replay = o.Flag("replay");
    var accounts = method == "ping" ? [] : o.Require("accounts").Split(',', StringSplitOptions.RemoveEmptyEntries);
    var spec = new RunSpec(concurrency, TimeSpan.FromSeconds(o.Double("warmup", 3)), TimeSpan.FromSeconds(o.Double("duration", 10)),
        batchSize, o.Long("max-records", 0));
    var name = o.Get("name", $"{method}-c{concurrency}" + (method == "batch" ? $"-b{batchSize}" : "") + (replay ? "-replay" : ""));
    var prefix = o.Get("id-prefix", $"lg{DateTime.UtcNow:HHmmss}{Random.Shared.Next(1000, 9999)}");

    using var pool = new ChannelPool(o.Require("target"), connections);
    await pool.ConnectAsync();
    var scenarios = new Scenarios(pool, accounts, o.Get("label", "basic_authoritative"), o.Get("expect", "package"), prefix, TimeSpan.FromSeconds(60),
        o.Flag("route-by-account"));
    if (replay) await scenarios.SeedReplayAsync(o.Int("replay-set", 20_000));

    LoadRunner.Call call = (method, replay) switch
    {
        ("ping", _) => scenarios.PingAsync,
        ("unary", false) => scenarios.UnaryAsync,
        ("unary", true) => (w, s, k, ct) => scenarios.ReplayUnaryAsync(w, s, concurrency, k, ct),
        (_, false) => (w, s, k, ct) => scenarios.BatchAsync(w, s, batchSize, k, ct),
        (_, true) => (w, s, k, ct) => scenarios.ReplayBatchAsync(w, s, concurrency, batchSize, k, ct),
    };
    var pids = (o.Get("pids") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => int.Parse(kv[1], CultureInfo.InvariantCulture));
    var profiler = new Profiler(pids, o.Get("redis-port") is { } rp ? int.Parse(rp, CultureInfo.InvariantCulture) : null);
    Profiler.Snapshot? opened = null;
    var rate = o.Get("rate") is null ? (double?)null : o.Double("rate", 0);
    var r = rate is { } perSecond
        ? await OpenLoop.RunAsync(perSecond, spec.Warmup, spec.Duration, call, async () => opened = await profiler.TakeAsync())
        : await LoadRunner.RunAsync(spec, call, async () => opened = await profiler.TakeAsync());
    var profile = opened is null ? null : Profiler.Delta(opened, await profiler.TakeAsync());
    var rpcName = method switch { "ping" => "Ping", "unary" => "RecordUsage", _ => "RecordUsageBatch" };
    return await WriteResultAsync(o, r, method, rpcName, name, concurrency, connections, batchSize, replay, accounts.Length, profile, rate);
}

/// <summary>Prints the run's line and appends its JSON line (kind grpc, or open-loop for a fixed-rate run); 1 when anything failed.</summary>
static async Task<int> WriteResultAsync(Options o, RunResult r, string method, string rpcName, string name, int concurrency, int connections,
    int batchSize, bool replay, int accounts, Dictionary<string, double>? profile, double? rate)
{
    var failed = r.ErrorCount > 0 || r.InvalidRecords > 0 || r.Calls == 0;
    var line = string.Create(CultureInfo.InvariantCulture,
        $"{name,-28} {rpcName,-16} c={concurrency,-4} conns={connections,-2} {r.CallsPerSecond,10:F0} calls/s {r.RecordsPerSecond,10:F0} records/s  " +
        $"p50 {r.Percentile(50),7:F2} ms  p99 {r.Percentile(99),7:F2} ms  p99.9 {r.Percentile(99.9),7:F2} ms  max {r.Percentile(100),7:F1} ms  " +
        $"errors {r.ErrorCount + r.InvalidRecords}");
    Console.WriteLine(line);
    foreach (var (status, n) in r.Errors) Console.WriteLine($"  ERROR {n} × {status}");
    if (r.InvalidRecords > 0) Console.WriteLine($"  WRONG OUTCOME {r.InvalidRecords} records, e.g. {r.FirstInvalid}");
    if (r.NotSustained is { } why) Console.WriteLine($"  NOT SUSTAINED: {why}");

    if (o.Get("json-out") is { } jsonOut)
    {
        var json = new JsonObject
        {
            ["kind"] = rate is null ? "grpc" : "open-loop",
            ["rate"] = rate,
            ["percent"] = o.Get("percent") is null ? null : o.Double("percent", 0),
            ["name"] = name,
            ["role"] = o.Get("role", method),
            ["phase"] = o.Get("phase", ""),
            ["method"] = rpcName,
            ["concurrency"] = concurrency,
            ["connections"] = connections,
            ["batchSize"] = batchSize,
            ["replay"] = replay,
            ["accounts"] = accounts,
            ["note"] = o.Get("note", ""),
            ["calls"] = r.Calls,
            ["records"] = r.Records,
            ["seconds"] = Math.Round(r.Seconds, 3),
            ["callsPerSec"] = Math.Round(r.CallsPerSecond, 1),
            ["recordsPerSec"] = Math.Round(r.RecordsPerSecond, 1),
            ["p50Ms"] = Math.Round(r.Percentile(50), 3),
            ["p90Ms"] = Math.Round(r.Percentile(90), 3),
            ["p99Ms"] = Math.Round(r.Percentile(99), 3),
            ["p999Ms"] = Math.Round(r.Percentile(99.9), 3),
            ["maxMs"] = Math.Round(r.Percentile(100), 3),
            ["meanMs"] = Math.Round(r.LatenciesMs.Length == 0 ? 0 : r.LatenciesMs.Average(), 3),
            ["secMinCalls"] = r.PerSecondCalls.Length == 0 ? 0 : r.PerSecondCalls.Min(),
            ["secMaxCalls"] = r.PerSecondCalls.Length == 0 ? 0 : r.PerSecondCalls.Max(),
            ["warmupCalls"] = r.WarmupCalls,
            ["errors"] = r.ErrorCount,
            ["errorDetail"] = string.Join("; ", r.Errors.Select(e => $"{e.Value} × {e.Key}")),
            ["notSustained"] = r.NotSustained ?? "",
            ["invalid"] = r.InvalidRecords,
            ["firstInvalid"] = r.FirstInvalid ?? "",
            ["package"] = r.Kinds.ByKind[1],
            ["postpaid"] = r.Kinds.ByKind[2],
            ["notBillable"] = r.Kinds.ByKind[3],
            ["refused"] = r.Kinds.ByKind[4],
            ["duplicates"] = r.Kinds.Duplicates,
            ["failed"] = failed,
        };
        if (profile is not null)
            foreach (var (k, v) in profile) json[k] = Math.Round(v, 3);
        await File.AppendAllTextAsync(jsonOut, json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n");
    }
    return failed ? 1 : 0;
}
