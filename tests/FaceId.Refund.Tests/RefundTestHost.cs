using FaceId.Common;
using FaceId.Contracts;
using FaceId.EventBus;
using FaceId.Metering.Application;
using FaceId.Packages.Application;
using FaceId.Packages.Catalog;
using FaceId.Packages.Ledger;
using FaceId.Redis;
using FaceId.Refund;
using FaceId.Refund.Application;
using FaceId.TestKit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace FaceId.Refund.Tests;

/// <summary>
/// The Refund service's classes (as RefundHost registers them), with Packages' and Metering's
/// application classes, wired on real Redis with a fake clock and no host (adapted from
/// FaceId.Ledger.Tests' LedgerHost): no relay and no worker run by themselves, so the events a
/// change wrote stay in the account's outbox, and tests run the worker when they choose.
/// </summary>
public sealed class RefundTestHost : IAsyncDisposable
{
    public static readonly DateTimeOffset DefaultStart = new(2026, 3, 10, 10, 0, 0, ChinaCalendar.Offset);

    private readonly ServiceProvider _services;

    public RefundTestHost(string redis, DateTimeOffset? start = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        Time = new FakeTimeProvider(start ?? DefaultStart);
        var values = new Dictionary<string, string?> { ["Redis:ConnectionString"] = redis };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddSingleton<TimeProvider>(Time);
        services.AddFaceIdRedis();
        services.AddFaceIdEventBus(configuration, "refund-tests");
        services.AddRefundService(configuration);
        services.AddProductCatalog(configuration).AddPackageLedger().AddUsageCharges();
        services.AddSingleton<FreeGrants>().AddSingleton<PackagesApplication>();
        services.AddSingleton<AccountDirectory>().AddSingleton<UsageRecordValidator>().AddSingleton<MeteringApplication>();
        _services = services.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; }
    public IDatabase Redis => _services.GetRequiredService<IDatabase>();
    public PackageLedger Ledger => _services.GetRequiredService<PackageLedger>();
    public PackageReader Reader => _services.GetRequiredService<PackageReader>();
    public PackagesApplication Packages => _services.GetRequiredService<PackagesApplication>();
    public MeteringApplication Metering => _services.GetRequiredService<MeteringApplication>();
    public FreeGrants Grants => _services.GetRequiredService<FreeGrants>();
    public RefundApplication Refunds => _services.GetRequiredService<RefundApplication>();
    public RefundCompletionWorker Worker => _services.GetRequiredService<RefundCompletionWorker>();
    public PendingRefunds Pending => _services.GetRequiredService<PendingRefunds>();

    /// <summary>A main account whose service opened at <paramref name="activatedAt"/> (default: a year before now).</summary>
    public async Task<string> OpenedAccountAsync(DateTimeOffset? activatedAt = null, string priceBook = "2021-06")
    {
        var id = TestIds.New("acct");
        await Ledger.RegisterAccountAsync(id, null);
        await Ledger.OpenServiceAsync(id, activatedAt ?? Time.GetUtcNow().AddYears(-1), priceBook, Settlement.Daily);
        return id;
    }

    /// <summary>Buys a catalog package now.</summary>
    public Task<PackageRecord> BuyAsync(string accountId, string label = "basic_self_photo", long size = 1000) =>
        Packages.PurchaseAsync(TestIds.New("order"), accountId, label, size);

    public async Task<UsageResult> UseAsync(string accountId, string label = "basic_self_photo", DateTimeOffset? at = null, string? requestId = null) =>
        (await Metering.RecordAsync(new UsageInput(requestId ?? TestIds.New("req"), accountId, label, "", Contracts.Common.V1.ComparisonLibrary.Unspecified,
            Contracts.Common.V1.AccessMode.Saas, "0", at ?? Time.GetUtcNow()))).OrThrow();

    public Task<RefundRecord> RefundAsync(string accountId, string packageId, string? key = null) =>
        Refunds.RequestRefundAsync(key ?? TestIds.New("key"), accountId, packageId);

    public async Task<PackageRecord> PackageAsync(string accountId, string packageId) =>
        await Reader.GetPackageAsync(accountId, packageId) ?? throw new InvalidOperationException($"no package {packageId}");

    /// <summary>The events waiting in the account's outbox: (topic, event id, data JSON).</summary>
    public async Task<IReadOnlyList<(string Topic, string Id, string Data)>> OutboxAsync(string accountId) =>
        (await Redis.StreamRangeAsync(RedisKeys.Outbox(RedisKeys.AccountTag(accountId))))
        .Select(e => ((string)e["topic"]!, (string?)e["id"] ?? "", (string)e["data"]!)).ToList();

    /// <summary>The RefundCompleted events in the account's outbox.</summary>
    public async Task<IReadOnlyList<Contracts.Events.V1.RefundCompleted>> RefundEventsAsync(string accountId) =>
        (await OutboxAsync(accountId)).Where(e => e.Topic == EventTopics.RefundCompleted)
        .Select(e => EventParser.Parse<Contracts.Events.V1.RefundCompleted>(e.Data)).ToList();

    private static readonly Google.Protobuf.JsonParser EventParser = new(Google.Protobuf.JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public async Task<long> CounterAsync(string accountId, DateTimeOffset day, string field) =>
        (long)await Redis.HashGetAsync(LedgerKeys.DayCounters(accountId, ChinaCalendar.DateOf(day).ToString("yyyyMMdd")), field);

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
