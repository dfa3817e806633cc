using System.Text.Json;
using FaceId.Billing.Domain;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;
using static FaceId.Billing.Infrastructure.Scripts.BillingScriptReplies;

namespace FaceId.Billing.Infrastructure.Scripts;

/// <summary>
/// issue-bill.lua: one bill (R-BIL-2) issued and paid from the balance (R-BIL-4) in one atomic step,
/// with BillIssued (and ServiceResumed when a credit clears a suspended account's arrears); refused
/// when the bill exists or another settlement moved the account's sequence.
/// </summary>
public sealed class IssueBillScript() : ScriptContract<IssueBillScript.Request, IssueBillScript.Result>(Loaded)
{
    /// <summary>The script's status words (ST_OK, ST_EXISTS, ST_CONFLICT in Lua).</summary>
    public const string Ok = "ok", Exists = "exists", Conflict = "conflict";

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(IssueBillScript).Assembly, "issue-bill.lua",
        BillingFormats.Preamble(
            [("ST_OK", Ok), ("ST_EXISTS", Exists), ("ST_CONFLICT", Conflict)],
            BillingFormats.JsonNames("BI", BillIssued.Descriptor),
            BillingFormats.JsonNames("SR", ServiceResumed.Descriptor)));

    public static readonly IssueBillScript Instance = new();

    /// <summary>How a bill is stored (<c>{acct:M}:bil:bill:&lt;period&gt;</c>) and read back.</summary>
    public static readonly JsonSerializerOptions BillJson = new(JsonSerializerDefaults.Web);

    /// <param name="MonthVersions">Month (yyyymm) → the version of its counters the draft saw.</param>
    public sealed record Request(AccountState Account, BillDraft Draft, IReadOnlyDictionary<string, long> MonthVersions, BillRecord Bill, DateTimeOffset Now);

    /// <param name="OutstandingFen">What the balance did not cover of this bill (<see cref="IssueStatus.Issued"/> only).</param>
    public sealed record Result(IssueStatus Status, long OutstandingFen, long BalanceFen, long ArrearsFen, DateTimeOffset? ArrearsSince);

    private static readonly Dictionary<string, IssueStatus> Words = new()
    {
        [Ok] = IssueStatus.Issued, [Exists] = IssueStatus.Exists, [Conflict] = IssueStatus.Conflict,
    };

    public override ScriptCall Bind(Request r)
    {
        var id = r.Account.AccountId;
        var bill = r.Bill;
        var keys = new List<RedisKey>
        {
            BillingKeys.Account(id), BillingKeys.Bill(id, bill.Period), BillingKeys.Bills(id),
            BillingKeys.Unbilled(id), BillingKeys.Due(id), BillingKeys.Outbox(id),
        };
        var args = new List<RedisValue>
        {
            id, r.Account.Seq, bill.Period, bill.PeriodStart.ToUnixTimeMilliseconds(),
            JsonSerializer.Serialize(bill, BillJson), bill.TotalFen, r.Draft.BalanceChargeFen,
            r.Now.ToUnixTimeMilliseconds(), Iso(r.Now),
            EventTopics.BillIssued, BillIssued.Descriptor.FullName, bill.BillId, Iso(bill.PeriodStart), Iso(bill.PeriodEnd),
            EventTopics.ServiceResumed, ServiceResumed.Descriptor.FullName,
        };
        var consumed = r.Draft.PackagesCharged.Select(BillingFormats.Items.Package).Concat(r.Draft.RefundsCredited.Select(BillingFormats.Items.Refund)).ToList();
        args.Add(consumed.Count);
        args.AddRange(consumed.Select(c => (RedisValue)c));
        var updates = r.Draft.Billed.ToLookup(b => b.Month);
        args.Add(r.MonthVersions.Count);
        foreach (var (month, version) in r.MonthVersions)
        {
            keys.Add(BillingKeys.Billed(id, month));
            args.Add(version);
            args.Add(updates[month].Count());
            foreach (var b in updates[month])
            {
                args.Add(b.Label);
                args.Add(b.Calls);
                args.Add(b.Fen);
            }
        }
        return new([.. keys], [.. args]);
    }

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        var status = Status(r[0], Words);
        if (status != IssueStatus.Issued) return new(status, 0, 0, 0, null);
        var since = (string)r[4]!;
        return new(status, Long(r[1]), Long(r[2]), Long(r[3]), since.Length > 0 ? Ms(since) : null);
    }
}
