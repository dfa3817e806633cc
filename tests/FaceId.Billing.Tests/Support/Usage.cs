using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;

namespace FaceId.Billing.Tests.Support;

/// <summary>Usage records as Metering publishes them (UsageCharged), for tests that feed Billing events directly.</summary>
public static class Usage
{
    /// <summary>kind: 'P' package-deducted, 'O' postpaid, 'N' not billable.</summary>
    public static ChargedUsage Record(string accountId, string label, DateTimeOffset at, char kind = 'O',
        AccessMode mode = AccessMode.Saas, string sub = "", string? requestId = null, string priceBook = "2021-06") => new()
    {
        RequestId = requestId ?? TestIds.New("req"),
        AccountId = accountId,
        SubAccountId = sub,
        Label = label,
        AccessMode = mode,
        ReturnCode = kind == 'N' ? "1001" : "0",
        OccurredAt = Timestamp.FromDateTimeOffset(at),
        Billable = kind != 'N',
        PackageId = kind == 'P' ? "pkg-test" : "",
        PriceBook = priceBook,
    };

    public static IEnumerable<ChargedUsage> Many(int count, string accountId, string label, DateTimeOffset at, char kind = 'O',
        AccessMode mode = AccessMode.Saas, string sub = "", string priceBook = "2021-06") =>
        Enumerable.Range(0, count).Select(_ => Record(accountId, label, at, kind, mode, sub, priceBook: priceBook));
}
