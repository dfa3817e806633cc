using FaceId.Billing.Grpc;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Billing.Tests.Support;

/// <summary>
/// One redis-server and one Billing host per test class, fed with events through the real bus.
/// Its clock stands in 2099 and never moves, so every period of the tests has ended and can be
/// settled on demand; the scheduler is off (tests of the scheduler host their own Billing).
/// Tests isolate themselves by account id.
/// </summary>
public sealed class BillingFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private RedisServer? _redis;
    private InProcessService<BillingGrpcService>? _host;
    private IConnectionMultiplexer? _connection;

    public FakeTimeProvider Clock { get; } = Hosts.Clock("2099-01-01T00:00");
    public RedisServer Redis => _redis!;
    public InProcessService<BillingGrpcService> Host => _host!;
    public IDatabase Db => _connection!.GetDatabase();
    public BillingService.BillingServiceClient Client => new(Host.Channel);
    public IEventBus Bus => Host.Services.GetRequiredService<IEventBus>();

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _connection = _redis.Connect();
        _host = Hosts.Billing(_redis.ConnectionString, Clock);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
    }

    /// <summary>Publishes ServiceActivated for a new account and waits until Billing knows it.</summary>
    public async Task<string> ActivateAsync(DateTimeOffset activatedAt, SettlementCycle cycle, string priceBook = "2021-06", string? accountId = null)
    {
        accountId ??= TestIds.New("acct");
        await Bus.PublishAsync(new ServiceActivated
        {
            AccountId = accountId, ApplicationId = TestIds.New("app"), ActivatedAt = Timestamp.FromDateTimeOffset(activatedAt),
            PriceBook = priceBook, SettlementCycle = cycle,
        });
        await Eventually.AssertAsync(async () =>
        {
            try
            {
                await Client.GetBalanceAsync(new GetBalanceRequest { AccountId = accountId });
                return true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return false;
            }
        }, Timeout, $"Billing learned of {accountId}'s activation");
        return accountId;
    }

    /// <summary>Publishes the records as UsageCharged events of at most <paramref name="batch"/> records and waits until Billing consumed them.</summary>
    public async Task ChargeAsync(IEnumerable<ChargedUsage> records, int batch = 5_000)
    {
        foreach (var chunk in records.Chunk(batch))
            await Bus.PublishAsync(new UsageCharged { Records = { chunk } });
        await ConsumedAsync(EventTopics.UsageCharged);
    }

    public async Task PublishAsync<T>(T @event) where T : IMessage<T>, new()
    {
        await Bus.PublishAsync(@event);
        await ConsumedAsync(EventTopics.For<T>());
    }

    public Task ConsumedAsync(string topic) =>
        Eventually.AssertAsync(() => Streams.ConsumedAllAsync(Db, topic), Timeout, $"Billing consumed every event of {topic}");

    public Task<Bill> SettleAsync(string accountId, string shanghaiLocal, string? key = null) =>
        Client.SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = key ?? TestIds.New("settle"), AccountId = accountId, PeriodInstant = Timestamp.FromDateTimeOffset(Hosts.At(shanghaiLocal)),
        }).ResponseAsync;

    public async Task<IReadOnlyList<StatisticsRow>> StatisticsAsync(string accountId, string fromLocal, string toLocal, Granularity granularity,
        bool byMode = false, bool bySub = false)
    {
        var rows = new List<StatisticsRow>();
        var token = "";
        do
        {
            var page = await Client.GetStatisticsAsync(new GetStatisticsRequest
            {
                AccountId = accountId, From = Timestamp.FromDateTimeOffset(Hosts.At(fromLocal)), To = Timestamp.FromDateTimeOffset(Hosts.At(toLocal)),
                Granularity = granularity, ByAccessMode = byMode, BySubAccount = bySub, Page = new PageRequest { PageSize = 500, PageToken = token },
            });
            rows.AddRange(page.Rows);
            token = page.NextPageToken;
        } while (token.Length > 0);
        return rows;
    }
}
