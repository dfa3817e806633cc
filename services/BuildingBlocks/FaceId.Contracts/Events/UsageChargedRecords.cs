using Google.Protobuf.WellKnownTypes;

namespace FaceId.Contracts.Events.V1;

public sealed partial class UsageCharged
{
    /// <summary>
    /// Every record of the event: its records, then each group's calls as records (a group holds
    /// calls charged alike; only their request ids and times differ). Consumers read this, not
    /// <see cref="Records"/> alone, so either form counts.
    /// </summary>
    public IEnumerable<ChargedUsage> AllRecords()
    {
        foreach (var r in Records) yield return r;
        foreach (var g in Groups)
        {
            for (var i = 0; i < g.RequestIds.Count; i++)
            {
                yield return new ChargedUsage
                {
                    RequestId = g.RequestIds[i],
                    AccountId = g.AccountId,
                    SubAccountId = g.SubAccountId,
                    Label = g.Label,
                    AccessMode = g.AccessMode,
                    ReturnCode = g.ReturnCode,
                    // A group with fewer times than ids is malformed: such a record has no time (consumers skip it).
                    OccurredAt = i < g.OccurredAtMs.Count ? Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(g.OccurredAtMs[i])) : null,
                    Billable = g.Billable,
                    PackageId = g.PackageId,
                    PriceBook = g.PriceBook,
                };
            }
        }
    }
}
