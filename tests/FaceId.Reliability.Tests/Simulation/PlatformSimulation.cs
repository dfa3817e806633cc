using System.Text.Json;
using FaceId.Billing;
using FaceId.Billing.Application;
using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Ledger.Tests;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.Refund;
using FaceId.Refund.Application;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Sdk;

namespace FaceId.Reliability.Tests.Simulation;

/// <summary>
/// A deterministic simulation of one main account (and a sub-account) over fake time, in the spirit
/// of TigerBeetle's simulator: the platform's real classes — the package ledger and its Lua scripts,
/// Packages', Metering's and Refund's application classes, Billing's store, event handlers and
/// settlement — run against a real redis-server; the seed decides every action, its arguments, the
/// clock, which events reach Billing when (and how often), and when the whole application is
/// "restarted" (its container disposed and rebuilt on the same Redis and clock, so every in-memory
/// state is lost). A model of what was acknowledged is kept beside it and the money invariants are
/// checked after every step (<see cref="CheckAsync"/>); at checkpoints every event is delivered and
/// Billing, the ledger and the bills must agree to the call and to the fen.
/// </summary>
public sealed class PlatformSimulation : IAsyncDisposable
{
    private static readonly string[] Labels = ["basic_authoritative", "basic_self_photo"];

    /// <summary>Postpaid unit prices of the labels above in fen (docs/rules.md §5.1: flat, whatever the volume).</summary>
    private static readonly Dictionary<string, long> UnitFen = new() { ["basic_authoritative"] = 100, ["basic_self_photo"] = 15 };

    private const long TopUpFen = 1_000_000_000;

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>Refunds are requested and credited in two steps here, so the history can interleave (and restart) between them.</summary>
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Refund:CompleteInline"] = "false",
        ["Refund:CompletionGraceMs"] = "0",
    };

    private readonly string _redis;
    private readonly int _seed;
    private readonly Settlement _cycle;
    private readonly Random _random;
    private readonly FakeTimeProvider _time;
    private LedgerHost _host;

    // ---- the model: what the platform acknowledged -------------------------------------------
    private readonly Dictionary<string, Charge> _charges = new(StringComparer.Ordinal);
    /// <summary>Each acknowledged request id's call as it was sent, for exact retries.</summary>
    private readonly Dictionary<string, UsageInput> _recorded = new(StringComparer.Ordinal);
    private readonly List<string> _chargeOrder = [];
    private readonly Dictionary<string, Pkg> _packages = new(StringComparer.Ordinal);
    private readonly List<RefundRequest> _refundRequests = [];
    private readonly Dictionary<(DateOnly Day, string Label), (long Billable, long NotBillable)> _ledgerDays = [];
    private readonly HashSet<DateOnly> _days = [];
    private readonly HashSet<DateOnly> _dirtyLedgerDays = [];

    // ---- what Billing was given ------------------------------------------------------------------
    private readonly SimulatedBus _bus;
    private readonly Dictionary<string, (DateOnly Day, string Label, bool Billable)> _billingUsage = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _creditsDelivered = new(StringComparer.Ordinal);
    private readonly HashSet<DateOnly> _dirtyBillingDays = [];
    private readonly SortedDictionary<string, (string Json, BillRecord Bill)> _bills = new(StringComparer.Ordinal); // by period
    private DateTimeOffset _lastSchedulerRun = DateTimeOffset.MinValue;
    private int _requestSeq;
    private string _where = "setup";

    public Dictionary<string, int> Actions { get; } = [];

    /// <summary>Refund refusals by reason, and calls moved onto packages bought the same day: what the history exercised.</summary>
    public IReadOnlyDictionary<string, int> Refusals =>
        _refundRequests.Where(r => r.Reason is not null).GroupBy(r => r.Reason!).ToDictionary(g => g.Key, g => g.Count());

    public long BackdatedCalls => _packages.Values.Sum(p => p.Backdated);

    public string Account { get; }
    public string SubAccount { get; }
    public DateTimeOffset ActivatedAt { get; }

    private PlatformSimulation(string redis, int seed, Settlement cycle, LedgerHost host, FakeTimeProvider time, string account, string sub, DateTimeOffset activatedAt)
    {
        (_redis, _seed, _cycle, _host, _time, Account, SubAccount, ActivatedAt) = (redis, seed, cycle, host, time, account, sub, activatedAt);
        _random = new Random(seed);
        _bus = new SimulatedBus(account);
    }

    /// <summary>
    /// Opens a main account, a sub-account, the trial grant and a top-up. Even seeds simulate an account
    /// settled daily, odd seeds one settled monthly (docs/rules.md §5.4).
    /// </summary>
    public static async Task<PlatformSimulation> StartAsync(string redis, int seed)
    {
        var cycle = seed % 2 == 0 ? Settlement.Daily : Settlement.Monthly;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 9, 0, 0, ChinaCalendar.Offset));
        var host = NewHost(redis, time);
        // Opened 8 days before the history starts: every record it sends (up to 7 days late) is inside a billable period.
        var activatedAt = time.GetUtcNow().AddDays(-8);
        var account = await host.OpenedAccountAsync(activatedAt, cycle: cycle);
        var sub = await host.SubAccountAsync(account);
        var sim = new PlatformSimulation(redis, seed, cycle, host, time, account, sub, activatedAt);
        var (activated, error) = await sim.Dispatcher.DispatchAsync(EventTopics.ServiceActivated, new CloudEvent
        {
            Id = TestIds.New("activated"), Source = "simulation", Type = ServiceActivated.Descriptor.FullName, Topic = EventTopics.ServiceActivated,
            Time = time.GetUtcNow(), DataJson = EventJson.Format(new ServiceActivated
            {
                AccountId = account, ActivatedAt = Timestamp.FromDateTimeOffset(activatedAt), PriceBook = "2021-06",
                SettlementCycle = cycle == Settlement.Daily ? SettlementCycle.Daily : SettlementCycle.Monthly, ApplicationId = "simulation",
            }),
        }, CancellationToken.None);
        sim.Assert(activated == DispatchResult.Handled, $"Billing did not take the activation: {error}");
        await sim.Get<BalanceService>().TopUpAsync(TestIds.New("topup"), account, TopUpFen);
        await sim.GrantTrialAsync();
        await sim.PollAsync();
        await sim.CheckAsync();
        return sim;
    }

    private static LedgerHost NewHost(string redis, FakeTimeProvider time) =>
        new(redis, time, (services, configuration, events) =>
        {
            services.AddMetrics();
            services.AddRefundService(configuration);
            services.AddBillingService(configuration);
            events.AddBillingSubscriptions();
        }, Settings);

    private T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();
    private EventDispatcher Dispatcher => Get<EventDispatcher>();
    private DateTimeOffset Now => _time.GetUtcNow();

    public string Summary =>
        $"seed {_seed} ({_cycle} settlement): {string.Join(", ", Actions.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}"))}; " +
        $"records acknowledged={_charges.Count} (package={_charges.Values.Count(c => c.Kind == UsageKind.Package)}, postpaid={_charges.Values.Count(c => c.Kind == UsageKind.Postpaid)}), " +
        $"packages={_packages.Count} (backdated calls {BackdatedCalls}), refunds credited={_packages.Values.Count(p => p.Refund == RefundStep.Credited)}, " +
        $"refused={string.Join("/", Refusals.OrderBy(r => r.Key).Select(r => $"{r.Key}:{r.Value}"))}, bills={_bills.Count}, " +
        $"event deliveries={_bus.Deliveries} (duplicates {_bus.Duplicates}), fake time {ActivatedAt:yyyy-MM-dd}..{Now:yyyy-MM-dd}";

    /// <summary>One seeded step, then every invariant.</summary>
    public async Task StepAsync(int step)
    {
        // Time always moves a little, so no two purchases share an instant (the deduction order's ties are then fixed, not by random ids).
        _time.Advance(TimeSpan.FromSeconds(_random.Next(1, 900)));
        _where = $"seed {_seed} step {step} at {Now:O}";
        var roll = _random.Next(100);
        var what = roll switch
        {
            < 6 => await BuyAsync(),
            < 8 => await GrantTrialAsync(),
            < 16 => await AdvanceAsync(),
            < 50 => await UseAsync(),
            < 58 => await RequestRefundAsync(),
            < 63 => await CompleteRefundsAsync(),
            < 78 => await DeliverAsync(),
            < 84 => await SettleAsync(),
            < 89 => await RestartAsync(),
            < 93 => await CheckpointAsync(),
            _ => await RedeliverAsync(),
        };
        Actions[what.Split(' ')[0]] = Actions.GetValueOrDefault(what.Split(' ')[0]) + 1;
        _where = $"seed {_seed} step {step} ({what}) at {Now:O}";
        await PollAsync();
        await CheckAsync();
    }

    /// <summary>The end of the history: every event delivered, a last settlement, and the full checks.</summary>
    public async Task FinishAsync()
    {
        _where = $"seed {_seed} finish";
        await CheckpointAsync();
        await CheckAsync();
    }

    // ---- actions ---------------------------------------------------------------------------------

    private async Task<string> BuyAsync()
    {
        // Often the label that went postpaid today (the customer ran out): those calls move onto the new package (R-PKG-4).
        var today = ChinaCalendar.DateOf(Now);
        var postpaidToday = _chargeOrder.Select(id => _charges[id]).Where(c => c.Kind == UsageKind.Postpaid && ChinaCalendar.DateOf(c.At) == today)
            .Select(c => c.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var label = postpaidToday.Count > 0 && _random.Next(3) != 0 ? postpaidToday[_random.Next(postpaidToday.Count)] : Labels[_random.Next(Labels.Length)];
        var p = await _host.Packages.PurchaseAsync(TestIds.New("order"), Account, label, 1000);
        _packages[p.Id] = new Pkg(p);
        Assert(p.ValidFrom == ChinaCalendar.StartOfDay(Now) && p.ExpiresAt == ChinaCalendar.AnniversaryOf(Now), $"R-PKG-2: package {p.Id} validity {p.ValidFrom:O}..{p.ExpiresAt:O}");
        return $"buy {label}";
    }

    private async Task<string> GrantTrialAsync()
    {
        var (ids, created) = await _host.Grants.GrantTrialAsync(Account, Now);
        Assert(created == (_packages.Count == 0), $"R-ONB-3: the trial is granted exactly once (created={created})");
        foreach (var id in ids.Where(id => !_packages.ContainsKey(id)))
            _packages[id] = new Pkg((await _host.Reader.GetPackageAsync(Account, id))!);
        return "grant trial";
    }

    private async Task<string> AdvanceAsync()
    {
        var jump = _random.Next(10) < 7 ? TimeSpan.FromHours(_random.Next(1, 36)) : TimeSpan.FromDays(_random.Next(20, 90));
        _time.Advance(jump);
        await _host.Scheduler.RunDueAsync();
        _lastSchedulerRun = Now;
        return $"advance {jump.TotalHours:0}h and run the expiry scheduler";
    }

    private async Task<string> UseAsync()
    {
        var batch = new List<UsageInput>();
        // Enough calls against 1,000-call packages that they run out: postpaid fallback, alerts, backdating.
        var n = _random.Next(1, 250);
        var window = UsageRecordValidator.LateWindow - TimeSpan.FromMinutes(30);
        for (var k = 0; k < n; k++)
        {
            if (_chargeOrder.Count > 0 && _random.Next(8) == 0)
            {
                // A retry (from a gateway): the same call under its request id. One in four reuses the id for another
                // call (another access mode), which is refused and changes nothing.
                var id = _chargeOrder[_chargeOrder.Count - 1 - _random.Next(Math.Min(_chargeOrder.Count, 300))];
                var original = _recorded[id];
                if (original.OccurredAt > Now - window)
                {
                    batch.Add(_random.Next(4) == 0
                        ? original with { AccessMode = original.AccessMode == AccessMode.Saas ? AccessMode.Paas : AccessMode.Saas }
                        : original);
                    continue;
                }
            }
            if (batch.Count > 0 && _random.Next(20) == 0)
            {
                batch.Add(batch[_random.Next(batch.Count)]); // the same id twice in one batch
                continue;
            }
            var at = Now - TimeSpan.FromMinutes(_random.Next(0, (int)window.TotalMinutes)) * (_random.Next(3) == 0 ? 1 : 0.02);
            batch.Add(new UsageInput($"sim-{++_requestSeq}", _random.Next(3) == 0 ? SubAccount : Account, Labels[_random.Next(Labels.Length)], "",
                ComparisonLibrary.Unspecified, _random.Next(2) == 0 ? AccessMode.Saas : AccessMode.Paas, _random.Next(8) == 0 ? "1001" : "0", at));
        }
        var results = await _host.Metering.RecordBatchAsync(batch);
        var used = UsedByPackage();
        for (var k = 0; k < batch.Count; k++)
        {
            var (r, input) = (results[k], batch[k]);
            if (_charges.TryGetValue(input.RequestId, out var known) && input != _recorded[input.RequestId])
            {
                // R-PKG-5 with the id bound to its call: another call under a known id is refused, naming what differs.
                Assert(r.Kind == UsageKind.Refused && r.Refusal == RefusalReason.IdempotencyKeyReused && r.DifferingFields is ["access_mode"],
                    $"R-PKG-5: {input.RequestId} reused for another call answered {r.Kind}/{r.Refusal} [{string.Join(",", r.DifferingFields ?? [])}]");
                continue;
            }
            if (known is not null)
            {
                // R-PKG-5: a replayed request id is never charged again and answers the outcome it has.
                Assert(r.Duplicate && r.Kind == known.Kind && r.PackageId == known.PackageId,
                    $"R-PKG-5: replay of {input.RequestId} answered {r.Kind}/{r.PackageId} duplicate={r.Duplicate}, acknowledged {known.Kind}/{known.PackageId}");
                continue;
            }
            Assert(!r.Duplicate && r.Kind != UsageKind.Refused, $"{input.RequestId}: new record answered {r.Kind} duplicate={r.Duplicate}");
            Assert(r.Billable == (input.ReturnCode == "0"), $"R-MET-2: {input.RequestId} code {input.ReturnCode} billable={r.Billable}");
            if (r.Billable)
            {
                // R-PKG-3: the first package usable at the call's time, free before bought, then earliest expiry, purchase, id; else postpaid.
                var first = FirstUsable(input.Label, input.OccurredAt!.Value, used);
                Assert((r.Kind, r.PackageId) == (first is null ? UsageKind.Postpaid : UsageKind.Package, first?.Record.Id ?? ""),
                    $"R-PKG-3: {input.RequestId} ({input.Label} at {input.OccurredAt:O}) charged {r.Kind}/{r.PackageId}, expected {first?.Record.Id ?? "postpaid"}");
                if (first is not null) used[first.Record.Id] = used.GetValueOrDefault(first.Record.Id) + 1;
            }
            var charge = new Charge(input.Label, input.OccurredAt!.Value, r.Billable, r.Kind, r.PackageId);
            _charges[input.RequestId] = charge;
            _recorded[input.RequestId] = input;
            _chargeOrder.Add(input.RequestId);
            var day = ChinaCalendar.DateOf(charge.At);
            var cell = _ledgerDays.GetValueOrDefault((day, charge.Label));
            _ledgerDays[(day, charge.Label)] = r.Billable ? (cell.Billable + 1, cell.NotBillable) : (cell.Billable, cell.NotBillable + 1);
            _days.Add(day);
            _dirtyLedgerDays.Add(day);
            if (r.Kind == UsageKind.Package)
            {
                var p = _packages[r.PackageId];
                // R-PKG-2, R-MET-4: inside the package's validity at the call's own time; R-REF-2: never a frozen package.
                Assert(p.Record.Label == charge.Label && p.Record.ValidFrom <= charge.At && charge.At < p.Record.ExpiresAt,
                    $"R-PKG-2: {input.RequestId} ({charge.Label} at {charge.At:O}) charged to {p.Record.Id} ({p.Record.Label}, {p.Record.ValidFrom:O}..{p.Record.ExpiresAt:O})");
                Assert(p.Refund is null, $"R-REF-2: {input.RequestId} charged to {p.Record.Id}, which is {p.Refund}");
            }
        }
        return $"use {batch.Count}";
    }

    private Pkg? FirstUsable(string label, DateTimeOffset at, Dictionary<string, long> used) =>
        _packages.Values
            .Where(p => p.Record.Label == label && p.Record.ValidFrom <= at && at < p.Record.ExpiresAt && p.Refund is null
                && used.GetValueOrDefault(p.Record.Id) < p.Record.Size)
            .OrderBy(p => p.Record.Free ? 0 : 1).ThenBy(p => p.Record.ExpiresAt).ThenBy(p => p.Record.PurchasedAt).ThenBy(p => p.Record.Id, StringComparer.Ordinal)
            .FirstOrDefault();

    private async Task<string> RequestRefundAsync()
    {
        var refunds = Get<RefundApplication>();
        if (_refundRequests.Count > 0 && _random.Next(5) == 0)
        {
            // A retry with the same idempotency key answers what the first request got (R-REF-3 "queryable").
            var earlier = _refundRequests[_random.Next(_refundRequests.Count)];
            var (id, reason) = await TryRefundAsync(refunds, earlier.Key, earlier.PackageId);
            Assert((id, reason) == (earlier.RefundId, earlier.Reason), $"refund retry {earlier.Key}: {id}/{reason}, first {earlier.RefundId}/{earlier.Reason}");
            return "refund-retry";
        }
        var candidates = _packages.Values.ToList(); // in delivery order: ids are random, so never an order for the seed's choices
        // Mostly recent purchases (inside the 7-day window), sometimes any package.
        var recent = candidates.Where(p => !p.Record.Free && Now - p.Record.PurchasedAt < TimeSpan.FromDays(9)).ToList();
        var pkg = recent.Count > 0 && _random.Next(4) != 0 ? recent[_random.Next(recent.Count)] : candidates[_random.Next(candidates.Count)];
        var expected = ExpectedRefusal(pkg);
        var key = TestIds.New("refund");
        var (refundId, refused) = await TryRefundAsync(refunds, key, pkg.Record.Id);
        Assert(refused == expected, $"R-REF-1: refund of {pkg.Record.Id} (free={pkg.Record.Free}, used={Used(pkg.Record.Id)}, backdated={pkg.Backdated}, " +
            $"bought {pkg.Record.PurchasedAt:O}, {pkg.Refund}) answered {refused ?? "accepted"}, expected {expected ?? "accepted"}");
        _refundRequests.Add(new RefundRequest(key, pkg.Record.Id, refundId, refused));
        if (refused is null)
        {
            pkg.Refund = RefundStep.Approved;
            pkg.RefundId = refundId;
        }
        return $"refund {refused ?? "accepted"}";
    }

    /// <summary>R-REF-1's conditions in freeze-for-refund.lua's order, decided from the model alone.</summary>
    private string? ExpectedRefusal(Pkg p)
    {
        if (p.Record.Free) return RefundApplication.ReasonFree;
        if (p.Refund is not null) return RefundApplication.ReasonAlreadyRequested;
        if (Used(p.Record.Id) > 0 || p.Backdated > 0) return RefundApplication.ReasonUsed;
        // Bought 2021-02-14 14:30 → refundable until 2021-02-21 23:59:59 (Shanghai).
        if (Now >= ChinaCalendar.StartOf(ChinaCalendar.DateOf(p.Record.PurchasedAt).AddDays(8))) return RefundApplication.ReasonWindowClosed;
        return null;
    }

    private async Task<(string? RefundId, string? Reason)> TryRefundAsync(RefundApplication refunds, string key, string packageId)
    {
        try
        {
            return ((await refunds.RequestRefundAsync(key, Account, packageId)).Id, null);
        }
        catch (PreconditionFailedException e)
        {
            return (null, e.Reason);
        }
    }

    private async Task<string> CompleteRefundsAsync()
    {
        var approved = _packages.Values.Where(p => p.Refund == RefundStep.Approved).ToList();
        var credited = _packages.Values.Where(p => p.Refund == RefundStep.Credited).ToList();
        var refunds = Get<RefundApplication>();
        if (_random.Next(3) == 0)
        {
            // The crash-recovery worker finishes every approved refund.
            await Get<RefundCompletionWorker>().RunDueAsync();
            foreach (var p in approved) (p.Refund, p.CompletedAt) = (RefundStep.Credited, Now);
            return "complete-refunds by the worker";
        }
        if (credited.Count > 0 && (approved.Count == 0 || _random.Next(4) == 0))
        {
            var p = credited[_random.Next(credited.Count)];
            var again = await refunds.CompleteAsync(Account, p.RefundId!);
            Assert(again == CompletionOutcome.AlreadyCredited, $"R-REF-3: completing {p.RefundId} again answered {again}");
            return "complete-refunds again";
        }
        if (approved.Count == 0) return "complete-refunds (none)";
        var next = approved[_random.Next(approved.Count)];
        var outcome = await refunds.CompleteAsync(Account, next.RefundId!);
        Assert(outcome == CompletionOutcome.Credited, $"R-REF-3: completing {next.RefundId} answered {outcome}");
        (next.Refund, next.CompletedAt) = (RefundStep.Credited, Now);
        return "complete-refunds one";
    }

    private async Task<string> DeliverAsync()
    {
        var delivered = await _bus.DeliverAsync(Dispatcher, _random, _random.Next(1, 12), 0.15, Now);
        foreach (var e in delivered) Apply(e);
        return $"deliver {delivered.Count}";
    }

    private async Task<string> RedeliverAsync()
    {
        var e = await _bus.RedeliverAsync(Dispatcher, _random, Now);
        if (e is not null) Apply(e);
        return "redeliver";
    }

    private async Task<string> SettleAsync()
    {
        var first = BillingPeriod.Containing(_cycle, ActivatedAt);
        var ended = new List<BillingPeriod>();
        for (var p = first; p.End <= Now; p = p.Next) ended.Add(p);
        if (ended.Count == 0) return "settle (no period ended yet)";
        var period = ended[_random.Next(ended.Count)];
        await SettlePeriodAsync(period);
        return $"settle {period.Key}";
    }

    /// <summary>SettlePeriod for an instant of the period, then again with another key and instant: the same bill (R-BIL-2).</summary>
    private async Task SettlePeriodAsync(BillingPeriod period)
    {
        var settlement = Get<SettlementService>();
        DateTimeOffset Inside() => period.Start.AddMinutes(_random.Next((int)(period.End - period.Start).TotalMinutes));
        var bill = await settlement.SettleAsync(TestIds.New("settle"), Account, Inside());
        var again = await settlement.SettleAsync(TestIds.New("settle"), Account, Inside());
        Assert(bill.Bill.Period == period.Key && Json(bill.Bill) == Json(again.Bill), $"R-BIL-2: settling {period.Key} twice gave different bills");
        await LoadBillsAsync();
        Assert(_bills[bill.Bill.Period].Json == Json(bill.Bill), $"R-BIL-2: bill {period.Key} changed after it was issued");
    }

    private async Task<string> RestartAsync()
    {
        await _host.DisposeAsync();
        _host = NewHost(_redis, _time);
        return "restart";
    }

    /// <summary>
    /// Every event reaches Billing, the next period (day or month) begins, and the one that ended is
    /// settled: now Billing's statistics equal the ledger's counters cell by cell, and the bills charge
    /// exactly the postpaid calls up to its end, each purchase once and each credited refund once.
    /// </summary>
    private async Task<string> CheckpointAsync()
    {
        await PollAsync();
        foreach (var e in await _bus.DrainAsync(Dispatcher, _random, Now)) Apply(e);
        // The next period begins; the one that just ended has no bill yet, so it takes every late record as an adjustment.
        _time.SetUtcNow(BillingPeriod.Containing(_cycle, Now).End.AddMinutes(_random.Next(1, 600)));
        var ended = BillingPeriod.Containing(_cycle, Now).Previous;
        await SettlePeriodAsync(ended);
        await CheckAllDaysAsync();
        await CheckBillsAgainstUsageAsync(ended.EndDay.AddDays(-1));
        return "checkpoint";
    }

    // ---- the model's bookkeeping ------------------------------------------------------------------

    private async Task PollAsync()
    {
        foreach (var e in await _bus.PollAsync(_host.Redis))
        {
            if (e.Topic != EventTopics.For<UsageBackdated>()) continue;
            // R-PKG-4: the purchase day's postpaid calls moved onto the new package; their stored outcome moved with them.
            var moved = Parser.Parse<UsageBackdated>(e.Data);
            var p = _packages[moved.PackageId];
            p.Backdated += moved.RequestIds.Count;
            foreach (var id in moved.RequestIds)
            {
                var c = _charges[id];
                Assert(c.Kind == UsageKind.Postpaid && c.Label == p.Record.Label && ChinaCalendar.DateOf(c.At) == ChinaCalendar.DateOf(p.Record.PurchasedAt),
                    $"R-PKG-4: {id} ({c.Kind}, {c.Label}, {c.At:O}) backdated onto {p.Record.Id} bought {p.Record.PurchasedAt:O}");
                _charges[id] = c with { Kind = UsageKind.Package, PackageId = moved.PackageId };
            }
        }
    }

    /// <summary>What a delivered event tells Billing, as the model counts it: each request id once, each refund once.</summary>
    private void Apply(OutboxEvent e)
    {
        if (e.Topic == EventTopics.UsageCharged)
        {
            foreach (var r in Parser.Parse<UsageCharged>(e.Data).AllRecords())
            {
                var day = ChinaCalendar.DateOf(r.OccurredAt.ToDateTimeOffset());
                _billingUsage.TryAdd(r.RequestId, (day, r.Label, r.Billable));
                _dirtyBillingDays.Add(day);
            }
        }
        else if (e.Topic == EventTopics.For<RefundCompleted>())
        {
            var refund = Parser.Parse<RefundCompleted>(e.Data);
            _creditsDelivered.TryAdd(refund.RefundId, refund.AmountFen);
        }
    }

    private async Task LoadBillsAsync()
    {
        var store = Get<BillingStore>();
        foreach (var period in await store.ListBillPeriodsAsync(Account))
        {
            if (_bills.ContainsKey(period)) continue;
            var bill = (await store.GetBillAsync(Account, period))!.Bill;
            _bills[period] = (Json(bill), bill);
        }
    }

    private long Used(string packageId) => UsedByPackage().GetValueOrDefault(packageId);

    /// <summary>Calls acknowledged against each package (backdated ones included).</summary>
    private Dictionary<string, long> UsedByPackage() =>
        _charges.Values.Where(c => c.Kind == UsageKind.Package).GroupBy(c => c.PackageId).ToDictionary(g => g.Key, g => (long)g.Count());

    // ---- invariants -------------------------------------------------------------------------------

    /// <summary>After every step: the ledger against the model, Billing against what it was given, bills and balance.</summary>
    private async Task CheckAsync()
    {
        await CheckLedgerDaysAsync(_dirtyLedgerDays);
        _dirtyLedgerDays.Clear();
        await CheckPackagesAsync();
        await CheckRefundsAsync();
        CheckAlerts();
        await CheckBillingDaysAsync(_dirtyBillingDays);
        _dirtyBillingDays.Clear();
        await CheckBillsAndBalanceAsync();
    }

    /// <summary>R-BIL-3 on the ledger's side: per day and label, billable = package-deducted + postpaid, as acknowledged.</summary>
    private async Task CheckLedgerDaysAsync(IEnumerable<DateOnly> days)
    {
        var cells = await LedgerCellsAsync(days);
        foreach (var ((day, label), (p, o, n)) in cells)
        {
            var (billable, notBillable) = _ledgerDays.GetValueOrDefault((day, label));
            Assert(billable == p + o && notBillable == n,
                $"R-BIL-3: ledger {day:yyyy-MM-dd} {label}: acknowledged billable {billable} != package {p} + postpaid {o}, or not billable {notBillable} != {n}");
        }
    }

    /// <summary>
    /// The ledger's day counters of every (day, label), the main account's and the sub-account's cells summed, read
    /// concurrently (one pipeline). (Billing's reconciliation compares the cells one by one: CheckAllDaysAsync.)
    /// </summary>
    private async Task<Dictionary<(DateOnly Day, string Label), (long P, long O, long N)>> LedgerCellsAsync(IEnumerable<DateOnly> days)
    {
        Task<long> Count(DateTimeOffset at, string label, ChargeKind kind, string sub) => _host.CounterAsync(Account, at, LedgerKeys.DayCounterField(label, kind, sub));
        var reads = days.SelectMany(d => Labels.Select(l => (Day: d, Label: l, At: ChinaCalendar.StartOf(d)))).SelectMany(x => new[] { "", SubAccount }.Select(sub => (x.Day, x.Label,
            P: Count(x.At, x.Label, ChargeKind.Package, sub), O: Count(x.At, x.Label, ChargeKind.Postpaid, sub), N: Count(x.At, x.Label, ChargeKind.NotBillable, sub)))).ToList();
        await Task.WhenAll(reads.SelectMany(r => new[] { r.P, r.O, r.N }));
        return reads.GroupBy(r => (r.Day, r.Label)).ToDictionary(g => g.Key, g => (g.Sum(r => r.P.Result), g.Sum(r => r.O.Result), g.Sum(r => r.N.Result)));
    }

    /// <summary>R-PKG-5: used ≤ size, used = the calls acknowledged against the package; package counters = the packages' used.</summary>
    private async Task CheckPackagesAsync()
    {
        var stored = (await _host.Reader.ListPackagesAsync(Account)).ToDictionary(p => p.Id);
        Assert(stored.Count == _packages.Count, $"{stored.Count} packages stored, {_packages.Count} delivered");
        var used = UsedByPackage();
        foreach (var (id, p) in _packages)
        {
            var s = stored[id];
            Assert(s.Used <= s.Size, $"R-PKG-5: package {id} overdrawn {s.Used}/{s.Size}");
            Assert(s.Used == used.GetValueOrDefault(id), $"R-PKG-5: package {id} used {s.Used}, acknowledged {used.GetValueOrDefault(id)}");
            Assert(s.Backdated == p.Backdated, $"R-PKG-4: package {id} backdated {s.Backdated}, events said {p.Backdated}");
            var status = p.Refund switch { RefundStep.Approved => "refunding", RefundStep.Credited => "refunded", _ => "active" };
            Assert(s.StoredStatus == status, $"R-REF-2/3: package {id} is {s.StoredStatus}, expected {status}");
        }
    }

    /// <summary>R-REF-1..3: only unused purchased packages are refunded, each once, for its price.</summary>
    private async Task CheckRefundsAsync()
    {
        var completed = _bus.All.Where(e => e.Topic == EventTopics.For<RefundCompleted>()).Select(e => Parser.Parse<RefundCompleted>(e.Data))
            .GroupBy(r => r.RefundId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var p in _packages.Values.Where(p => p.Refund is not null))
        {
            Assert(!p.Record.Free && p.Backdated == 0 && Used(p.Record.Id) == 0, $"R-REF-1: refunded package {p.Record.Id} is free or was used");
            var events = completed.GetValueOrDefault(p.RefundId!) ?? [];
            var expected = p.Refund == RefundStep.Credited ? 1 : 0;
            Assert(events.Count == expected && events.All(e => e.AmountFen == p.Record.PriceFen && e.PackageId == p.Record.Id),
                $"R-REF-3: refund {p.RefundId} of {p.Record.Id} ({p.Refund}) has {events.Count} RefundCompleted events");
        }
        Assert(completed.Count == _packages.Values.Count(p => p.Refund == RefundStep.Credited), $"R-REF-3: {completed.Count} refunds completed");
        var refunds = Get<RefundStore>();
        foreach (var p in _packages.Values.Where(p => p.Refund is not null))
        {
            var r = await refunds.GetAsync(Account, p.RefundId!);
            var state = p.Refund == RefundStep.Credited ? Refund.Application.RefundState.Credited : Refund.Application.RefundState.Approved;
            Assert(r is not null && r.State == state && r.AmountFen == p.Record.PriceFen, $"R-REF-3: refund {p.RefundId} is {r?.State}, expected {state}");
        }
    }

    /// <summary>R-PKG-6: each alert once per package and kind; low balance and exhausted exactly when due; expiry alerts once due.</summary>
    private void CheckAlerts()
    {
        var alerts = _bus.All.Where(e => e.Topic == EventTopics.PackageAlert).Select(e => (e.Id, Alert: Parser.Parse<PackageAlert>(e.Data))).ToList();
        foreach (var g in alerts.GroupBy(a => (a.Alert.PackageId, a.Alert.Kind)))
            Assert(g.Count() == 1, $"R-PKG-6: {g.Count()} {g.Key.Kind} alerts for {g.Key.PackageId}");
        // Raised the moment the threshold is crossed: low balance at the first remaining under 20 % of the size, exhausted at 0.
        foreach (var (_, a) in alerts.Where(a => a.Alert.Kind is PackageAlertKind.LowBalance or PackageAlertKind.Exhausted))
            Assert(a.Remaining == (a.Kind == PackageAlertKind.Exhausted ? 0 : (a.Size - 1) / 5),
                $"R-PKG-6: {a.Kind} alert for {a.PackageId} (size {a.Size}) raised at {a.Remaining} remaining");
        var kinds = alerts.ToLookup(a => a.Alert.PackageId, a => a.Alert.Kind);
        var usedBy = UsedByPackage();
        foreach (var p in _packages.Values)
        {
            var size = p.Record.Size;
            var used = usedBy.GetValueOrDefault(p.Record.Id);
            var has = kinds[p.Record.Id].ToHashSet();
            Assert(has.Contains(PackageAlertKind.LowBalance) == ((size - used) * 5 < size), $"R-PKG-6: {p.Record.Id} used {used}/{size}: low-balance alert {has.Contains(PackageAlertKind.LowBalance)}");
            Assert(has.Contains(PackageAlertKind.Exhausted) == (used == size), $"R-PKG-6: {p.Record.Id} used {used}/{size}: exhausted alert {has.Contains(PackageAlertKind.Exhausted)}");
            if (p.Refund is null && used < size)
            {
                foreach (var (kind, before) in new[] { (PackageAlertKind.Expiring7D, 7), (PackageAlertKind.Expiring1D, 1), (PackageAlertKind.Expired, 0) })
                    Assert(has.Contains(kind) == (_lastSchedulerRun >= p.Record.ExpiresAt.AddDays(-before)),
                        $"R-PKG-6: {p.Record.Id} expiring {p.Record.ExpiresAt:O}, scheduler last ran {_lastSchedulerRun:O}: {kind} alert {has.Contains(kind)}");
            }
        }
    }

    /// <summary>R-BIL-1: Billing counted every request id it was given once: calls and billable per day and label; package + postpaid = billable.</summary>
    private async Task CheckBillingDaysAsync(IEnumerable<DateOnly> days)
    {
        var list = days.ToList();
        if (list.Count == 0) return;
        var cells = await Get<BillingStore>().ReadCellsAsync(Account, list);
        foreach (var day in list)
        {
            foreach (var label in Labels)
            {
                var given = _billingUsage.Values.Where(u => u.Day == day && u.Label == label).ToList();
                var mine = cells.Where(c => c.Day == day && c.Label == label).ToList();
                var (calls, billable, package, postpaid) = (mine.Sum(c => c.Calls), mine.Sum(c => c.Billable), mine.Sum(c => c.Package), mine.Sum(c => c.Postpaid));
                Assert(calls == given.Count && billable == given.Count(u => u.Billable) && package + postpaid == billable,
                    $"R-BIL-1: Billing {day:yyyy-MM-dd} {label}: calls {calls}, billable {billable}, package {package}, postpaid {postpaid}; given {given.Count} records, {given.Count(u => u.Billable)} billable");
            }
        }
    }

    /// <summary>R-BIL-2, R-BIL-4, R-REF-3: bills never change, charge each purchase and credit each refund at most once; the balance adds up.</summary>
    private async Task CheckBillsAndBalanceAsync()
    {
        var bills = _bills.Values.Select(b => b.Bill).ToList();
        var prepaid = bills.SelectMany(b => b.Lines).Where(l => l.Kind == LineKind.PrepaidPackage).ToList();
        var credits = bills.SelectMany(b => b.Lines).Where(l => l.Kind == LineKind.RefundCredit).ToList();
        Assert(prepaid.Select(l => l.Reference).Distinct().Count() == prepaid.Count, "R-BIL-2: a package was charged on two bills");
        Assert(credits.Select(l => l.Reference).Distinct().Count() == credits.Count, "R-REF-3: a refund was credited on two bills");
        foreach (var l in prepaid)
            Assert(_packages.TryGetValue(l.Reference, out var p) && !p.Record.Free && l.AmountFen == p.Record.PriceFen, $"R-BIL-2: prepaid line {l.Reference} {l.AmountFen}");
        foreach (var l in credits)
        {
            var p = _packages.Values.SingleOrDefault(p => p.RefundId == l.Reference);
            Assert(p is { Refund: RefundStep.Credited } && l.AmountFen == -p.Record.PriceFen && l.Label == p.Record.Label && l.Calls == p.Record.Size,
                $"R-REF-3: refund line {l.Reference}: {l.Label}, {l.Calls} calls, {l.AmountFen} fen");
        }
        var charged = bills.Sum(b => b.Lines.Where(l => l.Kind != LineKind.RefundCredit).Sum(l => l.AmountFen));
        var balance = await Get<BalanceService>().GetAsync(Account);
        Assert(balance.BalanceFen - balance.ArrearsFen == TopUpFen + _creditsDelivered.Values.Sum() - charged,
            $"R-BIL-4/R-REF-3: balance {balance.BalanceFen} - arrears {balance.ArrearsFen} != top-up {TopUpFen} + refunds {_creditsDelivered.Values.Sum()} - bills {charged}");
    }

    /// <summary>At a checkpoint (every event delivered): Billing = ledger = model on every day ever used (R-BIL-3).</summary>
    private async Task CheckAllDaysAsync()
    {
        Assert(_billingUsage.Count == _charges.Count, $"Billing was given {_billingUsage.Count} request ids, {_charges.Count} acknowledged");
        await CheckLedgerDaysAsync(_days);
        await CheckBillingDaysAsync(_days);
        var cells = await Get<BillingStore>().ReadCellsAsync(Account, _days);
        var ledger = await LedgerCellsAsync(_days);
        foreach (var day in _days)
        {
            foreach (var label in Labels)
            {
                var (p, o, n) = ledger[(day, label)];
                var mine = cells.Where(c => c.Day == day && c.Label == label).ToList();
                Assert(mine.Sum(c => c.Package) == p && mine.Sum(c => c.Postpaid) == o && mine.Sum(c => c.Calls) == p + o + n,
                    $"R-BIL-3: {day:yyyy-MM-dd} {label}: ledger package {p} postpaid {o} not billable {n}; Billing package {mine.Sum(c => c.Package)} postpaid {mine.Sum(c => c.Postpaid)} calls {mine.Sum(c => c.Calls)}");
            }
        }
        // Billing's own reconciliation says the same over the last 390 days (its query limit is 400).
        // Cell by cell: day × label × sub-account × kind (package, postpaid, not billable).
        var lines = await Get<ReconciliationService>().GetAsync(Account, Now.AddDays(-390), Now);
        Assert(lines.All(l => l.Balanced), $"R-BIL-3: reconciliation unbalanced: {string.Join("; ", lines.SelectMany(l => l.UnbalancedCells))}");
        // Every acknowledged outcome still kept is stored as acknowledged: request ids are kept at least
        // UsageCharges.RequestIdRetention after their charge, which is after the call's time.
        var kept = _charges.Where(c => c.Value.At >= Now - UsageCharges.RequestIdRetention).ToList();
        var outcomes = kept.ToDictionary(c => c.Key, c => _host.Charges.GetChargeAsync(Account, c.Key));
        await Task.WhenAll(outcomes.Values);
        foreach (var (id, c) in kept)
        {
            var stored = outcomes[id].Result?.Outcome;
            Assert(stored is not null && (stored.Kind switch { ChargeKind.Package => UsageKind.Package, ChargeKind.Postpaid => UsageKind.Postpaid, _ => UsageKind.NotBillable }, stored.PackageId) == (c.Kind, c.PackageId),
                $"{id}: stored {stored?.Kind}/{stored?.PackageId}, acknowledged {c.Kind}/{c.PackageId}");
        }
        // Issued bills are immutable.
        var store = Get<BillingStore>();
        foreach (var (period, (json, _)) in _bills)
            Assert(Json((await store.GetBillAsync(Account, period))!.Bill) == json, $"R-BIL-2: bill {period} changed");
    }

    /// <summary>
    /// Once every event is in and <paramref name="through"/> is settled: per month and label, the
    /// bills' postpaid and adjustment lines add up to the postpaid calls Billing counted up to that
    /// day, at the label's unit price; every purchase up to then is charged once and every credited
    /// refund up to then is credited once (R-BIL-2, R-BIL-3, R-REF-3).
    /// </summary>
    private async Task CheckBillsAgainstUsageAsync(DateOnly through)
    {
        var bills = _bills.Values.Select(b => b.Bill).ToList();
        var cells = await Get<BillingStore>().ReadCellsAsync(Account, _days.Where(d => d <= through));
        foreach (var month in cells.Select(c => Months.Of(c.Day)).Distinct())
        {
            foreach (var label in Labels)
            {
                var postpaid = cells.Where(c => Months.Of(c.Day) == month && c.Label == label).Sum(c => c.Postpaid);
                var lines = bills.SelectMany(b => b.Lines.Select(l => (Bill: b, Line: l)))
                    .Where(x => x.Line.Label == label && LineMonth(x.Bill, x.Line) == month)
                    .Select(x => x.Line).ToList();
                Assert(lines.Sum(l => l.Calls) == postpaid && lines.Sum(l => l.AmountFen) == postpaid * UnitFen[label],
                    $"R-BIL-2: {month} {label}: bills charge {lines.Sum(l => l.Calls)} calls / {lines.Sum(l => l.AmountFen)} fen, Billing counted {postpaid} postpaid calls");
            }
        }
        var end = ChinaCalendar.StartOf(through.AddDays(1));
        var prepaid = bills.SelectMany(b => b.Lines).Where(l => l.Kind == LineKind.PrepaidPackage).Select(l => l.Reference).ToHashSet();
        foreach (var p in _packages.Values.Where(p => !p.Record.Free && p.Record.PurchasedAt < end))
            Assert(prepaid.Contains(p.Record.Id), $"R-BIL-2: package {p.Record.Id} bought {p.Record.PurchasedAt:O} is on no bill through {through:yyyy-MM-dd}");
        var credited = bills.SelectMany(b => b.Lines).Where(l => l.Kind == LineKind.RefundCredit).Select(l => l.Reference).ToHashSet();
        foreach (var p in _packages.Values.Where(p => p.Refund == RefundStep.Credited && p.CompletedAt < end))
            Assert(credited.Contains(p.RefundId!), $"R-REF-3: refund {p.RefundId} credited {p.CompletedAt:O} is on no bill through {through:yyyy-MM-dd}");
    }

    /// <summary>The month a postpaid or adjustment line charges ("yyyyMM"); null for other lines.</summary>
    private static string? LineMonth(BillRecord bill, BillLineItem line) => line.Kind switch
    {
        LineKind.Postpaid => bill.Period[..7].Replace("-", ""), // "yyyy-MM-dd" (daily) or "yyyy-MM" (monthly)
        LineKind.Adjustment => line.Reference.Replace("-", ""),
        _ => null,
    };

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static string Json(BillRecord bill) => JsonSerializer.Serialize(bill, JsonOptions);

    private void Assert(bool condition, string what)
    {
        if (!condition) throw new XunitException($"{_where}: {what} (rerun: FACEID_SIM_SEED={_seed})");
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private sealed record Charge(string Label, DateTimeOffset At, bool Billable, UsageKind Kind, string PackageId);

    private sealed class Pkg(PackageRecord record)
    {
        public PackageRecord Record { get; } = record;
        public long Backdated { get; set; }
        public RefundStep? Refund { get; set; }
        public string? RefundId { get; set; }
        public DateTimeOffset? CompletedAt { get; set; }
    }

    private enum RefundStep { Approved, Credited }

    private sealed record RefundRequest(string Key, string PackageId, string? RefundId, string? Reason);
}
