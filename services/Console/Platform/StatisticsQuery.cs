using FaceId.Contracts.Billing.V1;
using Google.Protobuf.WellKnownTypes;

namespace FaceId.Console.Platform;

/// <summary>One GetStatistics question: period, granularity and split. The page shows it with its answer.</summary>
public sealed record StatisticsQuery(DateTimeOffset From, DateTimeOffset To, Granularity Granularity, bool ByAccessMode = false, bool BySubAccount = false)
{
    /// <summary>Every row of the answer (all pages).</summary>
    public async Task<IReadOnlyList<StatisticsRow>> RunAsync(PlatformApi api, string accountId)
    {
        return await Paged.AllAsync<StatisticsRow>(async page =>
        {
            var answer = await api.Billing.GetStatisticsAsync(new GetStatisticsRequest
            {
                AccountId = accountId,
                From = Timestamp.FromDateTimeOffset(From),
                To = Timestamp.FromDateTimeOffset(To),
                Granularity = Granularity,
                ByAccessMode = ByAccessMode,
                BySubAccount = BySubAccount,
                Page = page,
            }, await api.CallAsync());
            return (answer.Rows, answer.NextPageToken);
        });
    }
}
