using FaceId.Common;
using FaceId.EventBus;
using FaceId.Metering.Application;
using FaceId.Packages.Application;
using FaceId.Packages.Ledger;
using FaceId.Packages.Catalog;
using FaceId.Redis;
using FaceId.TestKit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace FaceId.Ledger.Tests;

/// <summary>
/// The ledger, Packages' and Metering's application classes wired on real Redis with a fake clock,
/// without hosts: no relay runs, so the events a change wrote stay in the account's outbox for
/// the test to read. Shared with FaceId.Reliability.Tests (linked source).
/// </summary>
public sealed class LedgerHost : IAsyncDisposable
{
    public static readonly DateTimeOffset DefaultStart = new(2026, 3, 10, 10, 0, 0, ChinaCalendar.Offset);

    private readonly ServiceProvider _services;

    public LedgerHost(string redis, DateTimeOffset? start = null)
        : this(redis, new FakeTimeProvider(start ?? DefaultStart))
    {
    }

    /// <summary>
    /// On a clock the caller owns (so a new host can take over the same fake time: a "restart" that
    /// loses every in-memory state and keeps Redis). <paramref name="extend"/> adds more of the
    /// platform's classes to the same container (e.g. Refund's, Billing's and their subscriptions);
    /// <paramref name="settings"/> are extra configuration values.
    /// </summary>
    public LedgerHost(string redis, FakeTimeProvider time, Action<IServiceCollection, IConfiguration, EventBusBuilder>? extend = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        Time = time;
        var values = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Redis:ConnectionString"] = redis };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddSingleton<TimeProvider>(Time);
        services.AddFaceIdRedis();
        var events = services.AddFaceIdEventBus(configuration, "ledger-tests");
        services.AddProductCatalog(configuration).AddPackageLedger().AddUsageCharges();
        services.AddSingleton<FreeGrants>().AddSingleton<PackagesApplication>();
        services.AddSingleton<AccountDirectory>().AddSingleton<UsageRecordValidator>().AddSingleton<MeteringApplication>();
        extend?.Invoke(services, configuration, events);
        _services = services.BuildServiceProvider();
    }

    /// <summary>The container (resolve what <c>extend</c> added).</summary>
    public IServiceProvider Services => _services;

    public FakeTimeProvider Time { get; }
    public IDatabase Redis => _services.GetRequiredService<IDatabase>();
    public IEventBus Bus => _services.GetRequiredService<IEventBus>();
    public PackageLedger Ledger => _services.GetRequiredService<PackageLedger>();
    public PackageReader Reader => _services.GetRequiredService<PackageReader>();
    public UsageCharges Charges => _services.GetRequiredService<UsageCharges>();
    public PackagesApplication Packages => _services.GetRequiredService<PackagesApplication>();
    public MeteringApplication Metering => _services.GetRequiredService<MeteringApplication>();
    public FreeGrants Grants => _services.GetRequiredService<FreeGrants>();
    public ProductCatalog Catalog => _services.GetRequiredService<ProductCatalog>();
    public PackageSchedule Schedule => _services.GetRequiredService<PackageSchedule>();

    public ExpiryScheduler Scheduler => ActivatorUtilities.CreateInstance<ExpiryScheduler>(_services);

    /// <summary>A main account whose service opened at <paramref name="activatedAt"/> (default: a year before now).</summary>
    public async Task<string> OpenedAccountAsync(DateTimeOffset? activatedAt = null, string priceBook = "2021-06", Settlement cycle = Settlement.Daily)
    {
        var id = TestIds.New("acct");
        await Ledger.RegisterAccountAsync(id, null);
        await Ledger.OpenServiceAsync(id, activatedAt ?? Time.GetUtcNow().AddYears(-1), priceBook, cycle);
        return id;
    }

    public async Task<string> SubAccountAsync(string mainId)
    {
        var id = TestIds.New("sub");
        await Ledger.RegisterAccountAsync(id, mainId);
        return id;
    }

    /// <summary>Buys a catalog package now; returns its id.</summary>
    public async Task<PackageRecord> BuyAsync(string accountId, string label, long size) =>
        await Packages.PurchaseAsync(TestIds.New("order"), accountId, label, size);

    public async Task<UsageResult> UseAsync(string accountId, string label, DateTimeOffset? at = null, string code = "0", string? requestId = null) =>
        (await Metering.RecordAsync(new UsageInput(requestId ?? TestIds.New("req"), accountId, label, "", Contracts.Common.V1.ComparisonLibrary.Unspecified,
            Contracts.Common.V1.AccessMode.Saas, code, at ?? Time.GetUtcNow()))).OrThrow();

    /// <summary>The events waiting in the account's outbox: (topic, event id, data JSON).</summary>
    public async Task<IReadOnlyList<(string Topic, string Id, string Data)>> OutboxAsync(string accountId) =>
        (await Redis.StreamRangeAsync(RedisKeys.Outbox(RedisKeys.AccountTag(accountId))))
        .Select(e => ((string)e["topic"]!, (string?)e["id"] ?? "", (string)e["data"]!)).ToList();

    public async Task<long> CounterAsync(string accountId, DateTimeOffset day, string field) =>
        (long)await Redis.HashGetAsync(LedgerKeys.DayCounters(accountId, ChinaCalendar.DateOf(day).ToString("yyyyMMdd")), field);

    /// <summary>A label's day count of one kind over all its cells: the main account's ("label|K") and every sub-account's ("label|sub|K").</summary>
    public async Task<long> LabelCountAsync(string accountId, DateTimeOffset day, string label, ChargeKind kind)
    {
        var all = await Redis.HashGetAllAsync(LedgerKeys.DayCounters(accountId, ChinaCalendar.DateOf(day).ToString("yyyyMMdd")));
        var suffix = LedgerKeys.DayCounterField("", kind);
        return all.Where(e => ((string)e.Name!).StartsWith(label + LedgerKeys.DayCounterSeparator, StringComparison.Ordinal) && ((string)e.Name!).EndsWith(suffix, StringComparison.Ordinal))
            .Sum(e => (long)e.Value);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
