using System.Globalization;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>What a creation of packages did.</summary>
public enum CreateStatus { Created, AlreadyCreated, NotOpened, Suspended }

/// <summary>
/// create-packages.lua: creates packages exactly once per guard (their ids derive from it) with their
/// PackageDelivered events, backdating the purchase day's postpaid calls onto them (R-PKG-1, R-PKG-4, R-ONB-3, R-ONB-5).
/// </summary>
public sealed class CreatePackagesScript() : ScriptContract<CreatePackagesScript.Request, CreatePackagesScript.Result>(Loaded)
{
    private static readonly Dictionary<string, CreateStatus> Statuses = new()
    {
        ["ok"] = CreateStatus.Created,
        ["dup"] = CreateStatus.AlreadyCreated,
        ["not_opened"] = CreateStatus.NotOpened,
        ["suspended"] = CreateStatus.Suspended,
    };

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(CreatePackagesScript).Assembly, "create-packages.lua",
        PackageScriptLibrary.Preamble + LuaPreamble.Of([.. PackageScriptLibrary.StatusConstants(Statuses), ("PACKAGE_FIELDS", Fields)]));

    public static readonly CreatePackagesScript Instance = new();

    /// <summary>ARGV per package: id, label, size, price_fen, free, price_book, PackageDelivered JSON.</summary>
    private const int Fields = 7;

    /// <param name="Packages">Each package with its id (derived from the guard: PackageLedger.PackageId).</param>
    /// <param name="OrderId">The client's order id ("" for grants).</param>
    public sealed record Request(string AccountId, bool RequireOpenedService, DateTimeOffset Now, DateTimeOffset PurchasedAt, string OrderId,
        IReadOnlyList<(string Id, NewPackage Package)> Packages);

    /// <param name="Ids">Created: the new ids; AlreadyCreated: those that exist; else empty.</param>
    public sealed record Result(CreateStatus Status, IReadOnlyList<string> Ids);

    public override ScriptCall Bind(Request r)
    {
        if (r.Packages.Count == 0) throw new ArgumentException("no package to create", nameof(r));
        var validFrom = ChinaCalendar.StartOfDay(r.PurchasedAt);
        var expires = ChinaCalendar.AnniversaryOf(r.PurchasedAt);
        var args = new List<RedisValue>
        {
            LedgerKeys.Tag(r.AccountId), r.AccountId, PackageRecordFormat.Flag(r.RequireOpenedService), r.Now.ToUnixTimeMilliseconds(), PackageLedger.Iso(r.Now),
            EventTopics.PackageDelivered, PackageDelivered.Descriptor.FullName,
            EventTopics.UsageBackdated, UsageBackdated.Descriptor.FullName,
            EventTopics.PackageAlert, PackageAlert.Descriptor.FullName,
            r.PurchasedAt.ToUnixTimeMilliseconds(), validFrom.ToUnixTimeMilliseconds(),
            ChinaCalendar.DateOf(r.PurchasedAt).ToString("yyyyMMdd", CultureInfo.InvariantCulture), expires.ToUnixTimeMilliseconds(), r.OrderId,
            r.Packages.Count,
        };
        foreach (var (id, p) in r.Packages)
        {
            var delivered = new PackageDelivered
            {
                AccountId = r.AccountId, PackageId = id, Label = p.Label, Size = p.Size, PriceFen = p.PriceFen, Free = p.Free,
                PurchasedAt = Timestamp.FromDateTimeOffset(r.PurchasedAt), ValidFrom = Timestamp.FromDateTimeOffset(validFrom),
                ExpiresAt = Timestamp.FromDateTimeOffset(expires), PriceBook = p.PriceBook,
            };
            args.AddRange([id, p.Label, p.Size, p.PriceFen, PackageRecordFormat.Flag(p.Free), p.PriceBook, EventJson.Format(delivered)]);
        }
        return new([LedgerKeys.Service(r.AccountId), LedgerKeys.Outbox(r.AccountId), LedgerKeys.PurchaseDays(r.AccountId)], [.. args]);
    }

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        var status = Status(r[0], Statuses);
        return status switch
        {
            CreateStatus.Created or CreateStatus.AlreadyCreated when r.Length == 2 =>
                new(status, ((string)r[1]!).Split(',', StringSplitOptions.RemoveEmptyEntries)),
            CreateStatus.NotOpened or CreateStatus.Suspended when r.Length == 1 => new(status, []),
            _ => throw Unexpected($"{status} with {r.Length} values"),
        };
    }
}
