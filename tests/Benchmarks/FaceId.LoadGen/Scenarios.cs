using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Diagnostics.V1;
using FaceId.Contracts.Metering.V1;
using Google.Protobuf.WellKnownTypes;

namespace FaceId.LoadGen;

/// <summary>The calls the load generator makes, each checking what it got back.</summary>
public sealed class Scenarios(ChannelPool pool, string[] accounts, string label, string expect, string idPrefix, TimeSpan deadline,
    bool routeByAccount = false)
{
    private readonly DiagnosticsService.DiagnosticsServiceClient[] _ping =
        Enumerable.Range(0, pool.Count).Select(i => new DiagnosticsService.DiagnosticsServiceClient(pool.For(i))).ToArray();
    private readonly MeteringService.MeteringServiceClient[] _metering =
        Enumerable.Range(0, pool.Count).Select(i => new MeteringService.MeteringServiceClient(pool.For(i))).ToArray();

    private MeteringService.MeteringServiceClient Metering(int caller, int? account) =>
        _metering[pool.IndexFor(caller, routeByAccount ? account : null)];

    /// <summary>Original outcomes of the replay set, by request id (read-only once seeded).</summary>
    private Dictionary<string, UsageOutcome> _replay = [];
    private string[] _replayIds = [];
    /// <summary>When the replay set's calls happened: a replay repeats its call, occurred_at included (else IDEMPOTENCY_KEY_REUSED).</summary>
    private Timestamp _replayAt = new();

    public Task<CallOutcome> PingAsync(int caller, long seq, KindCounts kinds, CancellationToken ct) => Ping(caller, ct);

    private async Task<CallOutcome> Ping(int caller, CancellationToken ct)
    {
        var reply = await _ping[pool.IndexFor(caller)].PingAsync(new PingRequest(), deadline: DateTime.UtcNow + deadline, cancellationToken: ct);
        return reply.Service == "metering"
            ? new CallOutcome(1, 0, null)
            : new CallOutcome(1, 1, $"Ping answered by '{reply.Service}', not metering");
    }

    public async Task<CallOutcome> UnaryAsync(int caller, long seq, KindCounts kinds, CancellationToken ct)
    {
        var index = (int)((caller + seq) % accounts.Length);
        var record = Record(accounts[index], $"{idPrefix}-u{caller}-{seq}", DateTime.UtcNow);
        var reply = await Metering(caller, index).RecordUsageAsync(new RecordUsageRequest { Record = record },
            deadline: DateTime.UtcNow + deadline, cancellationToken: ct);
        var problem = Check(reply.Outcome, record.RequestId, duplicateExpected: false, kinds);
        return new CallOutcome(1, problem is null ? 0 : 1, problem);
    }

    public async Task<CallOutcome> BatchAsync(int caller, long seq, int size, KindCounts kinds, CancellationToken ct)
    {
        var index = (int)((caller + seq) % accounts.Length);
        var account = accounts[index];
        var request = new RecordUsageBatchRequest();
        var at = Timestamp.FromDateTime(DateTime.UtcNow);
        var prefix = $"{idPrefix}-b{caller}-{seq}-";
        for (var i = 0; i < size; i++) request.Records.Add(Record(account, prefix + i, at));
        var reply = await Metering(caller, index).RecordUsageBatchAsync(request, deadline: DateTime.UtcNow + deadline, cancellationToken: ct);
        return CheckBatch(request, reply, duplicateExpected: false, kinds);
    }

    /// <summary>Records <paramref name="count"/> request ids once (untimed) and keeps their outcomes for the replay.</summary>
    public async Task SeedReplayAsync(int count, int chunk = 5_000)
    {
        var ids = Enumerable.Range(0, count).Select(i => $"{idPrefix}-r-{i}").ToArray();
        var outcomes = new Dictionary<string, UsageOutcome>(count);
        var client = _metering[0];
        var at = Timestamp.FromDateTime(DateTime.UtcNow);
        for (var from = 0; from < count; from += chunk)
        {
            var request = new RecordUsageBatchRequest();
            for (var i = from; i < Math.Min(count, from + chunk); i++)
                request.Records.Add(Record(accounts[i % accounts.Length], ids[i], at));
            var reply = await client.RecordUsageBatchAsync(request, deadline: DateTime.UtcNow + deadline);
            foreach (var o in reply.Outcomes)
            {
                if (o.Kind is ChargeKind.Refused or ChargeKind.Unspecified)
                    throw new InvalidOperationException($"seeding the replay set: {o.RequestId} was {o.Kind}/{o.Refusal}");
                outcomes[o.RequestId] = o;
            }
        }
        _replayIds = ids;
        _replay = outcomes;
        _replayAt = at;
    }

    public async Task<CallOutcome> ReplayUnaryAsync(int caller, long seq, int callers, KindCounts kinds, CancellationToken ct)
    {
        var n = _replayIds.Length;
        var i = (int)((caller + seq * callers) % n);
        var record = Record(accounts[i % accounts.Length], _replayIds[i], _replayAt);
        var reply = await Metering(caller, i % accounts.Length).RecordUsageAsync(new RecordUsageRequest { Record = record },
            deadline: DateTime.UtcNow + deadline, cancellationToken: ct);
        var problem = Check(reply.Outcome, record.RequestId, duplicateExpected: true, kinds);
        return new CallOutcome(1, problem is null ? 0 : 1, problem);
    }

    public async Task<CallOutcome> ReplayBatchAsync(int caller, long seq, int callers, int size, KindCounts kinds, CancellationToken ct)
    {
        var n = _replayIds.Length;
        var batches = Math.Max(1, n / size);
        var first = (int)((caller + seq * callers) % batches) * size;
        var request = new RecordUsageBatchRequest();
        for (var i = first; i < first + size; i++)
        {
            var k = i % n;
            request.Records.Add(Record(accounts[k % accounts.Length], _replayIds[k], _replayAt));
        }
        var reply = await Metering(caller, null).RecordUsageBatchAsync(request, deadline: DateTime.UtcNow + deadline, cancellationToken: ct);
        return CheckBatch(request, reply, duplicateExpected: true, kinds);
    }

    private CallOutcome CheckBatch(RecordUsageBatchRequest request, RecordUsageBatchResponse reply, bool duplicateExpected, KindCounts kinds)
    {
        if (reply.Outcomes.Count != request.Records.Count)
            return new CallOutcome(request.Records.Count, request.Records.Count,
                $"batch of {request.Records.Count} answered with {reply.Outcomes.Count} outcomes");
        var bad = 0;
        string? first = null;
        for (var i = 0; i < reply.Outcomes.Count; i++)
        {
            var problem = Check(reply.Outcomes[i], request.Records[i].RequestId, duplicateExpected, kinds);
            if (problem is null) continue;
            bad++;
            first ??= problem;
        }
        return new CallOutcome(request.Records.Count, bad, first);
    }

    private UsageRecord Record(string account, string requestId, DateTime at) => Record(account, requestId, Timestamp.FromDateTime(at));

    private UsageRecord Record(string account, string requestId, Timestamp at) => new()
    {
        RequestId = requestId,
        AccountId = account,
        Label = label,
        AccessMode = AccessMode.Saas,
        ReturnCode = "0",
        OccurredAt = at,
    };

    /// <summary>Null when the outcome is what this scenario must get; else why not.</summary>
    private string? Check(UsageOutcome o, string requestId, bool duplicateExpected, KindCounts kinds)
    {
        kinds.ByKind[(int)o.Kind & 7]++;
        if (o.Duplicate) kinds.Duplicates++;
        if (o.RequestId != requestId) return $"outcome for '{o.RequestId}' answered request '{requestId}'";
        if (o.Kind is ChargeKind.Refused or ChargeKind.Unspecified) return $"{requestId}: {o.Kind} ({o.Refusal})";
        if (o.Duplicate != duplicateExpected)
            return duplicateExpected ? $"{requestId}: replay not answered as a duplicate" : $"{requestId}: a fresh request id answered as a duplicate";
        if (duplicateExpected)
        {
            if (!_replay.TryGetValue(requestId, out var original)) return $"{requestId}: not in the replay set";
            if (original.Kind != o.Kind || original.PackageId != o.PackageId || original.PackageRemaining != o.PackageRemaining || original.Label != o.Label)
                return $"{requestId}: replay answered {o.Kind}/{o.PackageId}/{o.PackageRemaining}, originally {original.Kind}/{original.PackageId}/{original.PackageRemaining}";
            return null;
        }
        return expect switch
        {
            "package" when o.Kind != ChargeKind.Package => $"{requestId}: expected a package charge, got {o.Kind}",
            "charged" when o.Kind is not (ChargeKind.Package or ChargeKind.Postpaid) => $"{requestId}: expected a charge, got {o.Kind}",
            _ => null,
        };
    }
}
