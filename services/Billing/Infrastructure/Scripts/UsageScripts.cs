using FaceId.Billing.Domain;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Billing.Infrastructure.Scripts;

/// <summary>
/// apply-usage.lua: one main account's usage records (one UsageCharged event) into Billing's day
/// statistics, once per request id, atomically with the counters (R-BIL-1; R-PKG-4 for a request id
/// backdated before its usage arrived). Request ids go to the generation hash current at <c>Now</c>, each as its
/// fixed-length digest (<see cref="BillingKeys.RequestIdField"/>).
/// </summary>
public sealed class ApplyUsageScript() : ScriptContract<ApplyUsageScript.Request, ApplyUsageScript.Result>(Loaded)
{
    private static readonly RedisScript Loaded =
        RedisScript.FromResource(typeof(ApplyUsageScript).Assembly, "apply-usage.lua", BillingFormats.Preamble());

    public static readonly ApplyUsageScript Instance = new();

    /// <param name="Day">The Shanghai day of the call.</param>
    /// <param name="SubAccountId">Empty for the main account.</param>
    public sealed record Record(string RequestId, UsageKind Kind, DateOnly Day, string Label, int AccessMode, string SubAccountId);

    public sealed record Request(string AccountId, IReadOnlyList<Record> Records, DateTimeOffset Now, TimeSpan StatisticsRetention);

    public sealed record Result(long Applied, long Duplicates);

    public override ScriptCall Bind(Request r)
    {
        var days = r.Records.Select(x => x.Day).Distinct().ToList();
        var dayIndex = days.Select((d, j) => (d, j)).ToDictionary(x => x.d, x => x.j + 1);
        var generation = BillingKeys.RequestIdGenerationAt(r.Now);
        var keys = new RedisKey[3 + days.Count];
        keys[0] = BillingKeys.MonthVersions(r.AccountId);
        keys[1] = BillingKeys.RequestIdGenerations(r.AccountId);
        keys[2] = BillingKeys.RequestIds(r.AccountId, generation);
        for (var j = 0; j < days.Count; j++) keys[3 + j] = BillingKeys.DayStats(r.AccountId, Months.DayKey(days[j]));

        var args = new RedisValue[6 + days.Count + r.Records.Count * 6];
        args[0] = BillingKeys.RequestIdPrefix(r.AccountId);
        args[1] = generation;
        args[2] = (long)BillingKeys.RequestIdLifetime(r.Now).TotalMilliseconds;
        args[3] = (long)r.StatisticsRetention.TotalSeconds;
        args[4] = r.Records.Count;
        args[5] = days.Count;
        var a = 6;
        foreach (var d in days) args[a++] = Months.DayKey(d);
        foreach (var x in r.Records)
        {
            args[a++] = BillingKeys.RequestIdField(x.RequestId);
            args[a++] = BillingFormats.UsageKinds.Code(x.Kind).ToString();
            args[a++] = dayIndex[x.Day];
            args[a++] = x.Label;
            args[a++] = x.AccessMode;
            args[a++] = x.SubAccountId;
        }
        return new(keys, args);
    }

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        if (r.Length != 2) throw Unexpected($"{r.Length} values");
        return new((long)r[0], (long)r[1]);
    }
}

/// <summary>
/// apply-backdate.lua: postpaid calls moved onto a package (R-PKG-4) in Billing's statistics, once per
/// request id; a request id not seen yet is marked so its usage counts as package-deducted when it arrives.
/// </summary>
public sealed class ApplyBackdateScript() : ScriptContract<ApplyBackdateScript.Request, ApplyBackdateScript.Result>(Loaded)
{
    private static readonly RedisScript Loaded =
        RedisScript.FromResource(typeof(ApplyBackdateScript).Assembly, "apply-backdate.lua", BillingFormats.Preamble());

    public static readonly ApplyBackdateScript Instance = new();

    /// <param name="Label">Only calls of this label move; empty: any label.</param>
    public sealed record Request(string AccountId, string Label, IReadOnlyList<string> RequestIds, DateTimeOffset Now);

    /// <param name="Moved">Applied postpaid calls now counted as package-deducted.</param>
    /// <param name="Marked">Request ids not applied yet, marked for their usage to come.</param>
    /// <param name="Unchanged">Already package-deducted, not billable, of another label, or marked before.</param>
    public sealed record Result(long Moved, long Marked, long Unchanged);

    public override ScriptCall Bind(Request r)
    {
        var generation = BillingKeys.RequestIdGenerationAt(r.Now);
        var args = new RedisValue[5 + r.RequestIds.Count];
        args[0] = BillingKeys.RequestIdPrefix(r.AccountId);
        args[1] = generation;
        args[2] = (long)BillingKeys.RequestIdLifetime(r.Now).TotalMilliseconds;
        // The day of a moved call is in its stored value: the script completes this prefix (same slot).
        args[3] = BillingKeys.DayStats(r.AccountId, "");
        args[4] = r.Label;
        for (var i = 0; i < r.RequestIds.Count; i++) args[5 + i] = BillingKeys.RequestIdField(r.RequestIds[i]);
        return new(
            [BillingKeys.MonthVersions(r.AccountId), BillingKeys.RequestIdGenerations(r.AccountId), BillingKeys.RequestIds(r.AccountId, generation)],
            args);
    }

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        if (r.Length != 3) throw Unexpected($"{r.Length} values");
        return new((long)r[0], (long)r[1], (long)r[2]);
    }
}
