using System.Globalization;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus.Outbox;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// Metering's charge API on the prepaid ledger: <c>deduct.lua</c>, the one atomic step that uses the
/// package counters of Packages (docs/architecture.md, key ownership: the package prefixes are
/// shared with Metering for this step), and the read-back of a request's kept outcome.
/// </summary>
public sealed class UsageCharges(IDatabase redis, OutboxRelay outbox, PackageReader packages, TimeProvider time)
{
    /// <summary>How long a request id is at least remembered after its charge (longer than the late window, R-MET-4).</summary>
    public static readonly TimeSpan RequestIdRetention = LedgerKeys.RequestIdGeneration;

    private static readonly OutboxScript DeductScript = OutboxScript.FromResource(typeof(UsageCharges).Assembly, "deduct.lua", PackageScriptLibrary.Preamble);

    /// <summary>deduct.lua as loaded (preamble and includes): the benchmark's Redis ceiling runs exactly this (FaceId.LoadGen script).</summary>
    public static string DeductScriptText => DeductScript.Text;

    /// <summary>Charges records of one main account in one atomic script call (deduct.lua).</summary>
    public async Task<IReadOnlyList<ChargeResult>> ChargeAsync(string mainAccountId, IReadOnlyList<ChargeRequest> records)
    {
        await outbox.RegisterAsync(LedgerKeys.Tag(mainAccountId));
        // Started first: the outbox entries carry this span's context (OutboxScript adds it).
        using var activity = LedgerTelemetry.StartCharge(records);
        var now = time.GetUtcNow();
        var header = new RedisValue[]
        {
            LedgerKeys.Tag(mainAccountId), mainAccountId, now.ToUnixTimeMilliseconds(), Iso(now), EventTopics.UsageCharged, UsageCharged.Descriptor.FullName,
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
        var args = new RedisValue[header.Length + 1 + classArgs.Count + recordArgs.Length + OutboxScript.TraceArgs];
        header.CopyTo(args, 0);
        args[header.Length] = classes.Count;
        classArgs.CopyTo(args, header.Length + 1);
        recordArgs.CopyTo(args, header.Length + 1 + classArgs.Count);
        var result = (RedisResult[])(await DeductScript.RunReservedAsync(redis, [LedgerKeys.Service(mainAccountId), LedgerKeys.Outbox(mainAccountId)], args))!;
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
            var label = packageId is null ? "" : (await packages.GetPackageAsync(mainAccountId, packageId))?.Label ?? "";
            return ChargeOutcome.FromKept(kept, priceBook, label);
        }
        return null;
    }

    private static string Ms13(DateTimeOffset t) => t.ToUnixTimeMilliseconds().ToString("D13", CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset t) => PackageLedger.Iso(t);
}
