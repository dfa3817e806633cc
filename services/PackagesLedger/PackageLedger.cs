using System.Diagnostics;
using System.Globalization;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The prepaid ledger on Redis: every change is one Lua script on the account's slot that also
/// writes its events to the account's outbox; the relay is notified afterwards.
/// </summary>
public sealed class PackageLedger(IDatabase redis, OutboxRelay outbox, PackageSchedule schedule, TimeProvider time)
{
    /// <summary>How long a request id is at least remembered after its charge (longer than the late window, R-MET-4).</summary>
    public static readonly TimeSpan RequestIdRetention = LedgerKeys.RequestIdGeneration;

    private static readonly RedisScript ActivateScript = RedisScript.FromResource(typeof(PackageLedger).Assembly, "activate.lua");
    private static readonly RedisScript CreatePackagesScript = RedisScript.FromResource(typeof(PackageLedger).Assembly, "create-packages.lua");
    private static readonly RedisScript DeductScript = RedisScript.FromResource(typeof(PackageLedger).Assembly, "deduct.lua");
    private static readonly RedisScript SetServiceStateScript = RedisScript.FromResource(typeof(PackageLedger).Assembly, "set-service-state.lua");
    private static readonly RedisScript ExpiryScript = RedisScript.FromResource(typeof(PackageLedger).Assembly, "expiry-alert.lua");

    /// <summary>Records a main or sub-account so metering can tell unknown from unopened accounts (R-ACC-1).</summary>
    public Task RegisterAccountAsync(string accountId, string? mainAccountId) =>
        string.IsNullOrEmpty(mainAccountId)
            ? redis.HashSetAsync(LedgerKeys.Service(accountId), [new HashEntry("kind", "main")])
            : redis.HashSetAsync(LedgerKeys.Service(accountId), [new HashEntry("kind", "sub"), new HashEntry("main", mainAccountId)]);

    /// <summary>Opens the service once (R-ONB-2); returns true the first time.</summary>
    public async Task<bool> OpenServiceAsync(string accountId, DateTimeOffset activatedAt, string priceBook, Settlement cycle)
    {
        var r = (RedisResult[])(await ActivateScript.RunAsync(redis, [LedgerKeys.Service(accountId)],
            [activatedAt.ToUnixTimeMilliseconds(), priceBook, cycle.ToString().ToLowerInvariant()]))!;
        return (long)r[2] == 1;
    }

    public async Task<ServiceView?> GetServiceAsync(string accountId)
    {
        var v = await redis.HashGetAsync(LedgerKeys.Service(accountId), ["kind", "main", "state", "activated_at", "price_book"]);
        if (v[0].IsNull && v[2].IsNull) return null;
        return new ServiceView(accountId, v[1].IsNullOrEmpty ? null : (string)v[1]!, v[2].IsNull ? null : (string)v[2]!,
            v[3].IsNull ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)v[3]), v[4].IsNull ? null : (string)v[4]!);
    }

    /// <summary>
    /// Creates packages exactly once per <paramref name="guard"/> (an order id, or a grant name),
    /// backdating the purchase day's postpaid calls onto them (R-PKG-4). Returns the ids and
    /// whether they were created now (false = an earlier call created them).
    /// </summary>
    public async Task<(IReadOnlyList<string> Ids, bool Created)> CreatePackagesAsync(
        string accountId, string guard, IReadOnlyList<NewPackage> packages, DateTimeOffset purchasedAt, bool requireOpenedService, string orderId = "")
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(accountId));
        var now = time.GetUtcNow();
        var validFrom = ChinaCalendar.StartOfDay(purchasedAt);
        var expires = ChinaCalendar.AnniversaryOf(purchasedAt);
        var day = DayKey(purchasedAt);
        var args = new List<RedisValue>
        {
            LedgerKeys.Tag(accountId), accountId, requireOpenedService ? 1 : 0, now.ToUnixTimeMilliseconds(), Iso(now),
            Activity.Current?.Id ?? "", Activity.Current?.TraceStateString ?? "",
            EventTopics.PackageDelivered, PackageDelivered.Descriptor.FullName,
            EventTopics.UsageBackdated, UsageBackdated.Descriptor.FullName,
            EventTopics.PackageAlert, PackageAlert.Descriptor.FullName,
            purchasedAt.ToUnixTimeMilliseconds(), validFrom.ToUnixTimeMilliseconds(), day, expires.ToUnixTimeMilliseconds(), orderId,
            packages.Count,
        };
        if (packages.Count == 0) throw new ArgumentException("no package to create", nameof(packages));
        var ids = new List<string>();
        foreach (var p in packages)
        {
            var id = PackageId(accountId, guard, ids.Count);
            ids.Add(id);
            var delivered = new PackageDelivered
            {
                AccountId = accountId, PackageId = id, Label = p.Label, Size = p.Size, PriceFen = p.PriceFen, Free = p.Free,
                PurchasedAt = Timestamp.FromDateTimeOffset(purchasedAt), ValidFrom = Timestamp.FromDateTimeOffset(validFrom),
                ExpiresAt = Timestamp.FromDateTimeOffset(expires), PriceBook = p.PriceBook,
            };
            args.AddRange([id, p.Label, p.Size, p.PriceFen, p.Free ? 1 : 0, p.PriceBook, EventJson.Format(delivered)]);
        }
        // The schedule is written first (its own slot): a day whose packages never came to be finds none
        // when due. Never removed on failure: the ids are the guard's, so a concurrent call may be creating them.
        await schedule.AddAsync(accountId, purchasedAt);
        var r = (RedisResult[])(await CreatePackagesScript.RunAsync(redis,
            [LedgerKeys.Service(accountId), LedgerKeys.Outbox(accountId), LedgerKeys.PurchaseDays(accountId)],
            args.ToArray()))!;
        var status = (string)r[0]!;
        switch (status)
        {
            case "not_opened":
                throw new PreconditionFailedException("SERVICE_NOT_OPENED", accountId, "The service is not opened for this account yet (R-ACC-2).");
            case "suspended":
                throw new PreconditionFailedException("SERVICE_SUSPENDED", accountId, "The service is suspended for arrears (R-BIL-4).");
        }
        if (status == "ok") outbox.Notify(LedgerKeys.Tag(accountId));
        return (((string)r[1]!).Split(',', StringSplitOptions.RemoveEmptyEntries), status == "ok");
    }

    /// <summary>Suspends (arrears) or resumes the service; stale or repeated changes are ignored (R-BIL-4).</summary>
    public async Task SetSuspendedAsync(string accountId, bool suspended, DateTimeOffset at) =>
        await SetServiceStateScript.RunAsync(redis, [LedgerKeys.Service(accountId)], [suspended ? "suspended" : "opened", at.ToUnixTimeMilliseconds()]);

    /// <summary>Runs one time-based step of a package (expiry-alert.lua); returns what happened.</summary>
    public async Task<string> RunPackageStepAsync(string accountId, string packageId, string step)
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(accountId));
        var now = time.GetUtcNow();
        var result = (string)(await ExpiryScript.RunAsync(redis, [LedgerKeys.Outbox(accountId)],
        [
            LedgerKeys.Tag(accountId), accountId, packageId, step, now.ToUnixTimeMilliseconds(), Iso(now),
            Activity.Current?.Id ?? "", Activity.Current?.TraceStateString ?? "", EventTopics.PackageAlert, PackageAlert.Descriptor.FullName,
        ]))!;
        if (result == "raised") outbox.Notify(LedgerKeys.Tag(accountId));
        return result;
    }

    /// <summary>Charges records of one main account in one atomic script call (deduct.lua).</summary>
    public async Task<IReadOnlyList<ChargeResult>> ChargeAsync(string mainAccountId, IReadOnlyList<ChargeRequest> records)
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(mainAccountId));
        // Started first: the outbox entries carry this span's context (args[2], args[3]).
        using var activity = LedgerTelemetry.StartCharge(records);
        var now = time.GetUtcNow();
        var header = new RedisValue[]
        {
            LedgerKeys.Tag(mainAccountId), mainAccountId, Activity.Current?.Id ?? "", Activity.Current?.TraceStateString ?? "",
            now.ToUnixTimeMilliseconds(), Iso(now), EventTopics.UsageCharged, UsageCharged.Descriptor.FullName,
            EventTopics.PackageAlert, PackageAlert.Descriptor.FullName, records.Count,
        };
        // The records' classes (alike but for request id and time): each goes to the script once, a
        // record as its id, time and class. Records of a batch mostly share a few instants and one class.
        var times = new Dictionary<DateTimeOffset, (string Ms13, string Day)>();
        var classes = new Dictionary<RecordClass, int>();
        var classArgs = new List<RedisValue>();
        var recordArgs = new RedisValue[records.Count * 3];
        var accountJson = JsonString(mainAccountId);
        RecordClass? last = null;
        string lastNumber = "";
        for (var k = 0; k < records.Count; k++)
        {
            var r = records[k];
            if (!times.TryGetValue(r.OccurredAt, out var f))
                times[r.OccurredAt] = f = (Ms13(r.OccurredAt), ChinaCalendar.DateOf(r.OccurredAt).ToString("yyyyMMdd", CultureInfo.InvariantCulture));
            var c = new RecordClass(r.Label, f.Day, r.Billable, r.AccessMode, r.ReturnCode, r.SubAccountId);
            if (c != last)
            {
                if (!classes.TryGetValue(c, out var number))
                {
                    classes[c] = number = classes.Count + 1;
                    classArgs.AddRange([c.Label, c.Day, c.Billable ? 1 : 0, GroupJson(c, accountJson)]);
                }
                (last, lastNumber) = (c, number.ToString(CultureInfo.InvariantCulture));
            }
            recordArgs[k * 3] = r.RequestId;
            recordArgs[k * 3 + 1] = f.Ms13;
            recordArgs[k * 3 + 2] = lastNumber;
        }
        var args = new RedisValue[header.Length + 1 + classArgs.Count + recordArgs.Length];
        header.CopyTo(args, 0);
        args[header.Length] = classes.Count;
        classArgs.CopyTo(args, header.Length + 1);
        recordArgs.CopyTo(args, header.Length + 1 + classArgs.Count);
        var result = (RedisResult[])(await DeductScript.RunAsync(redis, [LedgerKeys.Service(mainAccountId), LedgerKeys.Outbox(mainAccountId)], args))!;
        var book = (string)result[0]!;
        var statuses = (string)result[1]!;
        var outcomes = new ChargeResult[records.Count];
        var anyNew = false;
        ChargeResult? lastNew = null;
        var next = 2;
        for (var k = 0; k < records.Count; k++)
        {
            outcomes[k] = statuses[k] switch
            {
                // A new record's outcome comes as kept (short form); its label is the record's.
                '+' => lastNew = new ChargeResult(ChargeStatus.New, ChargeOutcome.FromKept((string)result[next++]!, book, records[k].Label)),
                // … or follows from the previous new record's: the same package with one call less, or the same outcome.
                '>' => lastNew = lastNew!.Outcome!.Kind == ChargeKind.Package
                    ? new ChargeResult(ChargeStatus.New, lastNew.Outcome with { PackageRemaining = lastNew.Outcome.PackageRemaining - 1 })
                    : lastNew,
                '=' => new ChargeResult(ChargeStatus.Duplicate, ChargeOutcome.Parse((string)result[next++]!, book)),
                var refusal => new ChargeResult(RefusalStatus(refusal), null),
            };
            anyNew |= statuses[k] is '+' or '>';
        }
        if (anyNew) outbox.Notify(LedgerKeys.Tag(mainAccountId));
        LedgerTelemetry.Charged(activity, outcomes);
        return outcomes;
    }

    /// <summary>The refusal a status character of deduct.lua stands for ("u", "o" or "s"); any other character is a fault, never a refusal.</summary>
    public static ChargeStatus RefusalStatus(char status) => status switch
    {
        'u' => ChargeStatus.UnknownAccount,
        'o' => ChargeStatus.NotOpened,
        's' => ChargeStatus.Suspended,
        _ => throw new InvalidOperationException($"deduct.lua answered unknown status '{status}'"),
    };

    /// <summary>What records of one class share: they differ only in request id and time (deduct.lua).</summary>
    private readonly record struct RecordClass(string Label, string Day, bool Billable, string AccessMode, string ReturnCode, string SubAccountId);

    /// <summary>
    /// The members of a ChargedUsageGroup of the class (protobuf JSON, as EventJson would write them)
    /// but its price book, package, ids and times and the braces, which deduct.lua adds: the script only concatenates.
    /// </summary>
    private static string GroupJson(RecordClass c, string accountJson)
    {
        var json = string.Concat("\"accountId\":", accountJson, ",\"label\":", JsonString(c.Label), ",\"accessMode\":", JsonString(c.AccessMode));
        json = string.Concat(json, ",\"returnCode\":", JsonString(c.ReturnCode), c.Billable ? ",\"billable\":true" : "");
        return c.SubAccountId.Length > 0 ? string.Concat(json, ",\"subAccountId\":", JsonString(c.SubAccountId)) : json;
    }

    /// <summary>A JSON string literal; ids, labels and codes are plain ASCII (validated), so escaping is rare.</summary>
    private static string JsonString(string s)
    {
        foreach (var c in s)
        {
            if (c < 0x20 || c == '"' || c == '\\' || c > 0x7e)
                return System.Text.Json.JsonSerializer.Serialize(s);
        }
        return string.Concat("\"", s, "\"");
    }

    /// <summary>Reads back a recorded request's outcome, or null.</summary>
    public async Task<ChargeOutcome?> GetChargeAsync(string mainAccountId, string requestId)
    {
        // Where deduct.lua looks: the current generation's hash, then the previous one's.
        var generation = LedgerKeys.GenerationAt(time.GetUtcNow());
        var batch = redis.CreateBatch();
        var book = batch.HashGetAsync(LedgerKeys.Service(mainAccountId), "price_book");
        var reads = new List<Task<RedisValue>>(2);
        for (var g = generation; g >= generation - 1; g--)
            reads.Add(batch.HashGetAsync(LedgerKeys.RequestIds(mainAccountId, g), requestId));
        batch.Execute();
        var priceBook = (string?)await book ?? "";
        foreach (var read in reads)
        {
            var kept = (string?)await read;
            if (kept is null) continue;
            var packageId = ChargeOutcome.KeptPackageId(kept);
            var label = packageId is null ? "" : (await GetPackageAsync(mainAccountId, packageId))?.Label ?? "";
            return ChargeOutcome.FromKept(kept, priceBook, label);
        }
        return null;
    }

    /// <summary>The packages the account bought on <paramref name="day"/> (Shanghai time): one schedule member's packages.</summary>
    public async Task<IReadOnlyList<string>> ListPackageIdsPurchasedOnAsync(string accountId, DateOnly day)
    {
        var ids = await redis.ListRangeAsync(LedgerKeys.PurchasedOn(accountId, day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)));
        return ids.Select(id => (string)id!).ToList();
    }

    public async Task<PackageRecord?> GetPackageAsync(string accountId, string packageId)
    {
        var stored = await redis.HashGetAsync(LedgerKeys.PackageBucket(accountId, packageId), packageId);
        return stored.IsNull ? null : PackageRecord.Parse(accountId, packageId, stored!);
    }

    /// <summary>Every package of the account, oldest purchase first (then by id).</summary>
    public async Task<IReadOnlyList<PackageRecord>> ListPackagesAsync(string accountId)
    {
        var days = await redis.SortedSetRangeByRankAsync(LedgerKeys.PurchaseDays(accountId));
        var batch = redis.CreateBatch();
        var lists = days.Select(d => batch.ListRangeAsync(LedgerKeys.PurchasedOn(accountId, d!))).ToArray();
        batch.Execute();
        var ids = (await Task.WhenAll(lists)).SelectMany(l => l).Select(id => (string)id!).ToArray();
        batch = redis.CreateBatch();
        var reads = ids.Select(id => batch.HashGetAsync(LedgerKeys.PackageBucket(accountId, id), id)).ToArray();
        batch.Execute();
        var stored = await Task.WhenAll(reads);
        return ids.Zip(stored).Where(x => !x.Second.IsNull).Select(x => PackageRecord.Parse(accountId, x.First, x.Second!))
            .OrderBy(p => p.PurchasedAt).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
    }

    private static string DayKey(DateTimeOffset t) => ChinaCalendar.DateOf(t).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static string Ms13(DateTimeOffset t) => t.ToUnixTimeMilliseconds().ToString("D13", CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// The id of the index-th package created under a guard (order id, grant): derived, so the first
    /// package's existence is the exactly-once guard and no separate guard key is kept.
    /// </summary>
    public static string PackageId(string accountId, string guard, int index) =>
        "pkg_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{accountId}\n{guard}\n{index}")))[..20];
}
