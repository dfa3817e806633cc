using System.Globalization;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// deduct.lua, the hot path: charges a batch of usage records of one main account in one atomic step
/// (R-PKG-3, R-PKG-5, R-MET-2, R-MET-4, R-PKG-6, R-ACC-2, R-BIL-4). The only place that knows its
/// positions: a header (<see cref="Arg"/>), one group per class of records (records alike but for request
/// id and time: <see cref="ClassField"/>), one group per record (<see cref="RecordField"/>); Lua gets them
/// as generated constants. Its answer: the price book, one status character per record
/// (<see cref="RecordStatus"/>), then the outcomes of the new and duplicate records.
/// </summary>
public sealed class DeductScript : ScriptContract<DeductScript.Request, DeductScript.Reply>
{
    /// <summary>The header's ARGV positions (1-based, as Lua counts): A_TAG, A_ACCOUNT, … in Lua.</summary>
    public enum Arg { Tag = 1, Account, Now, NowIso, UsageTopic, UsageType, AlertTopic, AlertType, Records, Classes }

    /// <summary>
    /// Offsets in a class's group (C_* in Lua): its label, Shanghai day (yyyyMMdd), billable (1|0), E证通 only (1|0: charged only for an
    /// account enterprise-verified by the call's time, R-ONB-4), the class's members of a ChargedUsageGroup as JSON, and the
    /// sub-account id ("" for the main account: the day counters' cell, R-BIL-3), and the fingerprint of its access mode, return code
    /// and calling account (<see cref="UsageFingerprint.OfClass"/>), kept with each request id.
    /// </summary>
    public enum ClassField { Label, Day, Billable, EnterpriseOnly, Json, SubAccount, Fingerprint }

    /// <summary>Offsets in a record's group (R_* in Lua): request id, occurred at (unix ms, 13 digits), class (1-based).</summary>
    public enum RecordField { RequestId, OccurredAt, Class }

    // Group sizes follow the field lists: a field added to an enum is an argument more per group.
    private const int HeaderArgs = (int)Arg.Classes, ClassArgs = (int)ClassField.Fingerprint + 1, RecordArgs = (int)RecordField.Class + 1;

    /// <summary>
    /// A record's status character (ST_* in Lua): new; new with the outcome that follows from the previous new record's
    /// (the same postpaid or not-billable outcome, or the same package with one call less); duplicate; refused (its request id
    /// kept for another call, unknown account, not opened, suspended at the call's time, an E证通 call of an account not
    /// enterprise-verified by then).
    /// </summary>
    public static class RecordStatus
    {
        public const char New = '+', FollowsPrevious = '>', Duplicate = '=', KeyReused = 'r', UnknownAccount = 'u', NotOpened = 'o', Suspended = 's',
            EnterpriseNotVerified = 'e';
    }

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(DeductScript).Assembly, "deduct.lua",
        PackageScriptLibrary.Preamble + LuaPreamble.Of(
        [
            .. Enum.GetValues<Arg>().Select(a => ("A_" + PackageScriptLibrary.LuaName(a.ToString()), (object)(int)a)),
            .. Enum.GetValues<ClassField>().Select(f => ("C_" + PackageScriptLibrary.LuaName(f.ToString()), (object)(int)f)),
            .. Enum.GetValues<RecordField>().Select(f => ("R_" + PackageScriptLibrary.LuaName(f.ToString()), (object)(int)f)),
            ("CLASS_ARGS", ClassArgs), ("RECORD_ARGS", RecordArgs),
            ("ST_NEW", RecordStatus.New), ("ST_FOLLOWS", RecordStatus.FollowsPrevious), ("ST_DUPLICATE", RecordStatus.Duplicate),
            ("ST_UNKNOWN_ACCOUNT", RecordStatus.UnknownAccount), ("ST_NOT_OPENED", RecordStatus.NotOpened), ("ST_SUSPENDED", RecordStatus.Suspended),
            ("ST_NOT_VERIFIED", RecordStatus.EnterpriseNotVerified), ("ST_KEY_REUSED", RecordStatus.KeyReused),
            ("FP_TIME_MOD", UsageFingerprint.TimeModulus),
            // A refused group's reason field (its other fields share ChargedUsageGroup's names).
            ("RUG_REASON", RefusedUsageGroup.Descriptor.FindFieldByNumber(RefusedUsageGroup.ReasonFieldNumber).JsonName),
            ("CTR_RETENTION_MS", LedgerKeys.DayCounterRetention), ("POSTQ_RETENTION_MS", LedgerKeys.PostpaidQueueRetention),
            .. ServiceHistory.Lua,
        ]) + RefusedTable());

    /// <summary>
    /// REFUSED in Lua: per status of a refusal whose request id is kept, its kind (<see cref="RefusedKinds"/>: the kept value's
    /// and day counter's letter) and its refused group's reason ("o = { kind = 'U', reason = 'USAGE_REFUSAL_SERVICE_NOT_OPENED' }, …").
    /// One table, as the main chunk's locals are near Lua's limit of 200.
    /// </summary>
    private static string RefusedTable()
    {
        (char Status, ChargeStatus Refusal, UsageRefusal Reason)[] refusals =
        [
            (RecordStatus.NotOpened, ChargeStatus.NotOpened, UsageRefusal.ServiceNotOpened),
            (RecordStatus.Suspended, ChargeStatus.Suspended, UsageRefusal.ServiceSuspended),
            (RecordStatus.EnterpriseNotVerified, ChargeStatus.EnterpriseNotVerified, UsageRefusal.EnterpriseNotVerified),
        ];
        return "local REFUSED = { " + string.Join(", ", refusals.Select(r =>
            $"{r.Status} = {{ kind = '{RefusedKinds.Letters[r.Refusal]}', reason = '{RefusalName(r.Reason)}' }}")) + " }\n";
    }

    public static readonly DeductScript Instance = new();

    /// <summary>The enum value's protobuf JSON name, as UsageCharged's refused groups carry it.</summary>
    private static string RefusalName(UsageRefusal refusal) =>
        EventsReflection.Descriptor.EnumTypes.Single(e => e.Name == nameof(UsageRefusal)).FindValueByNumber((int)refusal).Name;

    private DeductScript() : base(new ReservedTraceSlots(Loaded))
    {
    }

    /// <summary>deduct.lua as loaded (preamble and includes): the benchmark's Redis ceiling runs exactly this (FaceId.LoadGen script).</summary>
    public static string Text => Loaded.Text;

    /// <param name="Now">The charge's time: the request-id generation, the events' time.</param>
    public sealed record Request(string MainAccountId, DateTimeOffset Now, IReadOnlyList<ChargeRequest> Records);

    /// <summary>
    /// The answer, its statuses checked: the account's price book, one status per record, and the outcomes
    /// of the new (as kept) and duplicate records in order; <see cref="Results"/> makes them typed per record.
    /// </summary>
    public sealed class Reply
    {
        internal Reply(string priceBook, string statuses, RedisResult[] answer) => (PriceBook, Statuses, Answer) = (priceBook, statuses, answer);

        public string PriceBook { get; }

        /// <summary>One <see cref="RecordStatus"/> character per record.</summary>
        public string Statuses { get; }

        internal RedisResult[] Answer { get; }
    }

    public override ScriptCall Bind(Request request)
    {
        var records = request.Records;
        // The records' classes (alike but for request id and time): each goes to the script once, a
        // record as its id, time and class. Records of a batch mostly share a few instants and one class.
        var times = new Dictionary<DateTimeOffset, (string Ms13, string Day)>();
        var classes = new Dictionary<RecordClass, int>();
        var classArgs = new List<RedisValue>();
        var recordArgs = new RedisValue[records.Count * RecordArgs];
        var accountJson = JsonString(request.MainAccountId);
        RecordClass? last = null;
        string lastNumber = "";
        for (var k = 0; k < records.Count; k++)
        {
            var r = records[k];
            if (!times.TryGetValue(r.OccurredAt, out var f))
                times[r.OccurredAt] = f = (Ms13(r.OccurredAt), ChinaCalendar.DateOf(r.OccurredAt).ToString("yyyyMMdd", CultureInfo.InvariantCulture));
            var c = new RecordClass(r.Label, f.Day, r.Billable, r.EnterpriseOnly, r.AccessMode, r.ReturnCode, r.SubAccountId);
            if (c != last)
            {
                if (!classes.TryGetValue(c, out var number))
                {
                    classes[c] = number = classes.Count + 1;
                    classArgs.AddRange([c.Label, c.Day, PackageRecordFormat.Flag(c.Billable), PackageRecordFormat.Flag(c.EnterpriseOnly), GroupJson(c, accountJson),
                        c.SubAccountId, UsageFingerprint.OfClass(c.AccessMode, c.ReturnCode, c.SubAccountId)]);
                }
                (last, lastNumber) = (c, number.ToString(CultureInfo.InvariantCulture));
            }
            var b = k * RecordArgs;
            recordArgs[b + (int)RecordField.RequestId] = r.RequestId;
            recordArgs[b + (int)RecordField.OccurredAt] = f.Ms13;
            recordArgs[b + (int)RecordField.Class] = lastNumber;
        }
        // One array, with the trace context's slots free at its end (OutboxScript.RunReservedAsync fills them: no copy).
        var args = new RedisValue[HeaderArgs + classArgs.Count + recordArgs.Length + OutboxScript.TraceArgs];
        var now = request.Now;
        args[(int)Arg.Tag - 1] = LedgerKeys.Tag(request.MainAccountId);
        args[(int)Arg.Account - 1] = request.MainAccountId;
        args[(int)Arg.Now - 1] = now.ToUnixTimeMilliseconds();
        args[(int)Arg.NowIso - 1] = PackageLedger.Iso(now);
        args[(int)Arg.UsageTopic - 1] = EventTopics.UsageCharged;
        args[(int)Arg.UsageType - 1] = UsageCharged.Descriptor.FullName;
        args[(int)Arg.AlertTopic - 1] = EventTopics.PackageAlert;
        args[(int)Arg.AlertType - 1] = PackageAlert.Descriptor.FullName;
        args[(int)Arg.Records - 1] = records.Count;
        args[(int)Arg.Classes - 1] = classes.Count;
        classArgs.CopyTo(args, HeaderArgs);
        recordArgs.CopyTo(args, HeaderArgs + classArgs.Count);
        return new([LedgerKeys.Service(request.MainAccountId), LedgerKeys.Outbox(request.MainAccountId)], args);
    }

    public override Reply Parse(RedisResult reply)
    {
        var answer = Array(reply);
        if (answer.Length < 2) throw Unexpected($"{answer.Length} values");
        var statuses = (string)answer[1]!;
        var answered = 0;
        foreach (var s in statuses)
        {
            switch (s)
            {
                case RecordStatus.New or RecordStatus.Duplicate or RecordStatus.KeyReused: answered++; break;
                case RecordStatus.FollowsPrevious or RecordStatus.UnknownAccount or RecordStatus.NotOpened or RecordStatus.Suspended
                    or RecordStatus.EnterpriseNotVerified: break;
                default: throw Unexpected($"status '{s}'");
            }
        }
        if (answered != answer.Length - 2) throw Unexpected($"{answer.Length - 2} outcomes for {answered} new or duplicate records");
        return new Reply((string)answer[0]!, statuses, answer);
    }

    /// <summary>Runs the charge: <see cref="Bind"/>, the script, <see cref="Parse"/>, then the typed outcome of each record.</summary>
    public async Task<ChargeResult[]> ChargeAsync(IDatabaseAsync db, Request request)
    {
        // A failover took the account's slot before the replicas confirmed the charge: a planned CLUSTER FAILOVER hands
        // the slot over with every write, a master that died may have lost the last ones. So the charge runs again
        // where the slot is now (idempotent: same ids, same payloads) and is confirmed there. A record the new master
        // already holds answers "duplicate" and keeps its first answer; one it lost is charged now, and that answer
        // stands. The caller hears OK either way, of charges that are on the new master and its replicas. The same when
        // the script itself met the old master already a replica (READONLY at its first write: nothing written). The
        // connection may need more than one topology re-read to see the new master: a few runs, then UNAVAILABLE.
        ChargeResult[]? answer = null;
        for (var run = 0; ; run++)
        {
            if (run > 0)
            {
                System.Diagnostics.Activity.Current?.AddEvent(new("charge run again on the slot's new master"));
                if (run > 1) await Task.Delay(TopologyRefresh.MinInterval); // the next re-read is a new one, not the last one's answer
                await ReplicaAcknowledgement.FollowHandOverAsync(db.Multiplexer);
            }
            Reply reply;
            ReplicationNotConfirmedException? notConfirmed;
            try
            {
                (reply, notConfirmed) = await RunUnconfirmedAsync(db, request);
            }
            catch (RedisServerException e) when (run < RunsAfterHandOver && StoreFaults.TransientCondition(e) == "READONLY")
            {
                continue;
            }
            var again = Results(reply, request.Records);
            if (answer is not null)
                for (var i = 0; i < again.Length; i++)
                    if (IsRetryAnswer(again[i]) && !IsRetryAnswer(answer[i])) again[i] = answer[i];
            answer = again;
            if (notConfirmed is null) return answer;
            if (!notConfirmed.HandedOver || run == RunsAfterHandOver) throw notConfirmed;
        }
    }

    /// <summary>How many times a charge runs again after a hand-over before the caller gets UNAVAILABLE.</summary>
    private const int RunsAfterHandOver = 4;

    private static bool IsRetryAnswer(ChargeResult r) => r.Status == ChargeStatus.Duplicate || r.Duplicate;

    /// <summary>The outcome of each record of <paramref name="records"/> (the request's), in order.</summary>
    public ChargeResult[] Results(Reply reply, IReadOnlyList<ChargeRequest> records)
    {
        var statuses = reply.Statuses;
        if (statuses.Length != records.Count) throw Unexpected($"{statuses.Length} statuses for {records.Count} records");
        var book = reply.PriceBook;
        var outcomes = new ChargeResult[records.Count];
        ChargeResult? lastNew = null;
        var next = 2;
        try
        {
            for (var k = 0; k < records.Count; k++)
            {
                outcomes[k] = statuses[k] switch
                {
                    // A new record's outcome comes as kept (short form); its label is the record's.
                    RecordStatus.New => lastNew = new ChargeResult(ChargeStatus.New, ChargeOutcome.FromKept((string)reply.Answer[next++]!, book, records[k].Label)),
                    // … or follows from the previous new record's: the same package with one call less, or the same outcome.
                    RecordStatus.FollowsPrevious => lastNew = lastNew is null ? throw Unexpected($"status '{RecordStatus.FollowsPrevious}' before any new record")
                        : lastNew.Outcome!.Kind == ChargeKind.Package
                            ? new ChargeResult(ChargeStatus.New, lastNew.Outcome with { PackageRemaining = lastNew.Outcome.PackageRemaining - 1 })
                            : lastNew,
                    RecordStatus.Duplicate => Duplicate((string)reply.Answer[next++]!, book),
                    RecordStatus.KeyReused => KeyReused(records[k], (string)reply.Answer[next++]!),
                    RecordStatus.UnknownAccount => Refused.UnknownAccount,
                    RecordStatus.NotOpened => Refused.NotOpened,
                    RecordStatus.Suspended => Refused.Suspended,
                    RecordStatus.EnterpriseNotVerified => Refused.EnterpriseNotVerified,
                    var s => throw Unexpected($"status '{s}'"),
                };
            }
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or IndexOutOfRangeException or OverflowException or ArgumentException
            or InvalidOperationException && e is not UnexpectedScriptReplyException)
        {
            throw new UnexpectedScriptReplyException(Script.Name, $"an outcome it cannot parse ({e.Message})", e);
        }
        return outcomes;
    }

    /// <summary>The same call again: its kept charge, or its kept refusal answered as the first time, marked a duplicate.</summary>
    private static ChargeResult Duplicate(string whole, string book) => RefusedKinds.Of(whole[0]) is { } refusal
        ? new ChargeResult(refusal, null, Duplicate: true)
        : new ChargeResult(ChargeStatus.Duplicate, ChargeOutcome.Parse(whole, book));

    /// <summary>A request id kept for another call: the kept outcome's label and fingerprint name the fields that differ.</summary>
    private static ChargeResult KeyReused(ChargeRequest retry, string answer)
    {
        var sep = answer.IndexOf(UsageFingerprint.Separator);
        if (sep < 0) throw new FormatException($"reused request id's answer '{answer}' has no fingerprint");
        var differing = UsageFingerprint.Differing(retry, ChargeOutcome.LabelOf(answer.AsSpan(0, sep)), answer[(sep + 1)..]);
        if (differing.Count == 0) throw new FormatException($"reused request id's answer '{answer}' differs in no field");
        return new ChargeResult(ChargeStatus.KeyReused, null, differing);
    }

    /// <summary>Refusals carry no outcome: one instance each.</summary>
    private static class Refused
    {
        public static readonly ChargeResult UnknownAccount = new(ChargeStatus.UnknownAccount, null);
        public static readonly ChargeResult NotOpened = new(ChargeStatus.NotOpened, null);
        public static readonly ChargeResult Suspended = new(ChargeStatus.Suspended, null);
        public static readonly ChargeResult EnterpriseNotVerified = new(ChargeStatus.EnterpriseNotVerified, null);
    }

    /// <summary>What records of one class share: they differ only in request id and time.</summary>
    private readonly record struct RecordClass(string Label, string Day, bool Billable, bool EnterpriseOnly, string AccessMode, string ReturnCode, string SubAccountId);

    private static readonly string AccountIdJson = Member(ChargedUsageGroup.AccountIdFieldNumber)[1..], LabelJson = Member(ChargedUsageGroup.LabelFieldNumber),
        AccessModeJson = Member(ChargedUsageGroup.AccessModeFieldNumber), ReturnCodeJson = Member(ChargedUsageGroup.ReturnCodeFieldNumber),
        BillableJson = Member(ChargedUsageGroup.BillableFieldNumber) + "true", SubAccountIdJson = Member(ChargedUsageGroup.SubAccountIdFieldNumber);

    /// <summary>",\"jsonName\":" of a ChargedUsageGroup field (its protobuf JSON name; the first member goes without the comma).</summary>
    private static string Member(int field) => ",\"" + ChargedUsageGroup.Descriptor.FindFieldByNumber(field).JsonName + "\":";

    /// <summary>
    /// The members of a ChargedUsageGroup of the class (protobuf JSON, as EventJson would write them)
    /// but its price book, package, ids and times and the braces, which deduct.lua adds: the script only concatenates.
    /// </summary>
    private static string GroupJson(RecordClass c, string accountJson)
    {
        var json = string.Concat(AccountIdJson, accountJson, LabelJson, JsonString(c.Label), AccessModeJson, JsonString(c.AccessMode));
        json = string.Concat(json, ReturnCodeJson, JsonString(c.ReturnCode), c.Billable ? BillableJson : "");
        return c.SubAccountId.Length > 0 ? string.Concat(json, SubAccountIdJson, JsonString(c.SubAccountId)) : json;
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

    private static string Ms13(DateTimeOffset t) => t.ToUnixTimeMilliseconds().ToString("D13", CultureInfo.InvariantCulture);

    /// <summary>
    /// deduct.lua run with the arguments <see cref="Bind"/> built, whose last <see cref="OutboxScript.TraceArgs"/>
    /// slots are left free for the trace context: <see cref="OutboxScript.RunReservedAsync"/> fills them, no copy.
    /// </summary>
    private sealed class ReservedTraceSlots(OutboxScript script) : IRedisScript
    {
        public string Name => script.Name;
        public string Text => script.Text;
        public Task<RedisResult> RunAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] args) => script.RunReservedAsync(db, keys, args);
    }
}
