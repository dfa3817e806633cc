using FaceId.Billing.Infrastructure.Scripts;
using FaceId.Billing.Tests.Support;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>R-BIL-1: statistics from UsageCharged events, idempotent per usage record.</summary>
public sealed class StatisticsTests(BillingFixture billing) : IClassFixture<BillingFixture>
{
    private static readonly DateTimeOffset Day1 = Hosts.At("2030-05-10T10:00");
    private static readonly DateTimeOffset Day2 = Hosts.At("2030-05-11T10:00");

    [Fact]
    public async Task R_BIL_1_counts_calls_billable_package_and_postpaid_per_day_label_access_mode_and_sub_account()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-05-01T09:00"), SettlementCycle.Daily);
        var sub = TestIds.New("sub");
        await billing.ChargeAsync(
        [
            .. Usage.Many(3, account, "basic_authoritative", Day1, 'P'),
            .. Usage.Many(2, account, "basic_authoritative", Day1, 'O', AccessMode.Paas, sub),
            .. Usage.Many(1, account, "basic_authoritative", Day1, 'N', AccessMode.Saas, sub),
            .. Usage.Many(600, account, "bank_card_info_check", Day1, 'O'),
            .. Usage.Many(500, account, "bank_card_info_check", Day2, 'O', AccessMode.Paas),
        ]);

        var days = await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-12T00:00", Granularity.Day);
        Assert.Equal(
        [
            ("2030-05-10", "bank_card_info_check", 600L, 600L, 0L, 600L, 600L * 38),
            ("2030-05-10", "basic_authoritative", 6L, 5L, 3L, 2L, 2L * 100),
            ("2030-05-11", "bank_card_info_check", 500L, 500L, 0L, 500L, 500L * 38), // the month's 1,100 calls reach the 0.38 tier
        ], days.Select(r => (r.Period, r.Label, r.Calls, r.BillableCalls, r.PackageCalls, r.PostpaidCalls, r.PostpaidAmountFen)));
        Assert.All(days, r => Assert.Equal((AccessMode.Unspecified, ""), (r.AccessMode, r.SubAccountId)));

        var detailed = await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-11T00:00", Granularity.Day, byMode: true, bySub: true);
        Assert.Equal(
        [
            ("bank_card_info_check", AccessMode.Saas, "", 600L, 600L, 0L, 600L),
            ("basic_authoritative", AccessMode.Saas, "", 3L, 3L, 3L, 0L),
            ("basic_authoritative", AccessMode.Saas, sub, 1L, 0L, 0L, 0L),
            ("basic_authoritative", AccessMode.Paas, sub, 2L, 2L, 0L, 2L),
        ], detailed.Select(r => (r.Label, r.AccessMode, r.SubAccountId, r.Calls, r.BillableCalls, r.PackageCalls, r.PostpaidCalls)));

        var bySub = await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-11T00:00", Granularity.Day, bySub: true);
        Assert.Equal(3, bySub.Single(r => r.Label == "basic_authoritative" && r.SubAccountId == sub).Calls);

        var months = await billing.StatisticsAsync(account, "2030-05-01T00:00", "2030-06-01T00:00", Granularity.Month, byMode: true);
        Assert.Equal(
        [
            ("2030-05", "bank_card_info_check", AccessMode.Saas, 600L, 600L * 38),
            ("2030-05", "bank_card_info_check", AccessMode.Paas, 500L, 500L * 38),
            ("2030-05", "basic_authoritative", AccessMode.Saas, 4L, 0L),
            ("2030-05", "basic_authoritative", AccessMode.Paas, 2L, 200L),
        ], months.Select(r => (r.Period, r.Label, r.AccessMode, r.Calls, r.PostpaidAmountFen)));
    }

    [Fact]
    public async Task R_BIL_1_an_event_delivered_twice_or_replayed_under_a_new_id_counts_once()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-05-01T09:00"), SettlementCycle.Daily);
        var records = Usage.Many(50, account, "basic_authoritative", Day1, 'O').ToList();
        var charged = new UsageCharged { Records = { records } };
        await billing.PublishAsync(charged);
        var before = await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-11T00:00", Granularity.Day, true, true);

        // The same CloudEvent again at the transport (same id), the same records under a new event id,
        // and a batch repeating one request id within itself.
        var raw = (await billing.Db.StreamRangeAsync(EventTopics.UsageCharged)).Single(e => ((string)e["data"]!).Contains(records[0].RequestId));
        await billing.Db.StreamAddAsync(EventTopics.UsageCharged, [new NameValueEntry("data", raw["data"])]);
        await billing.PublishAsync(charged);
        await billing.PublishAsync(new UsageCharged { Records = { records[1], records[1], records[2] } });
        await billing.ConsumedAsync(EventTopics.UsageCharged);

        var after = await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-11T00:00", Granularity.Day, true, true);
        Assert.Equal(before, after);
        Assert.Equal(50, Assert.Single(after).Calls);
    }

    private static RefusedUsageGroup Refused(string account, UsageRefusal reason, DateTimeOffset at, int count, string sub = "", AccessMode mode = AccessMode.Saas)
    {
        var g = new RefusedUsageGroup { AccountId = account, SubAccountId = sub, Label = "basic_authoritative", AccessMode = mode, ReturnCode = "0", Billable = true, Reason = reason };
        for (var i = 0; i < count; i++)
        {
            g.RequestIds.Add(TestIds.New("req"));
            g.OccurredAtMs.Add(at.ToUnixTimeMilliseconds());
        }
        return g;
    }

    [Fact]
    public async Task R_BIL_1_R_BIL_4_refused_calls_are_counted_per_reason_once_per_request_id_and_never_billable()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-05-01T09:00"), SettlementCycle.Daily);
        var suspended = Refused(account, UsageRefusal.ServiceSuspended, Day1, 4);
        var subSuspended = Refused(account, UsageRefusal.ServiceSuspended, Day1, 1, "sub-r", AccessMode.Paas);
        var notOpened = Refused(account, UsageRefusal.ServiceNotOpened, Day1, 2);
        var notVerified = Refused(account, UsageRefusal.EnterpriseNotVerified, Day2, 3);
        var refused = new UsageCharged { Records = { Usage.Many(5, account, "basic_authoritative", Day1, 'O') }, Refused = { suspended, subSuspended, notOpened, notVerified } };
        await billing.PublishAsync(refused);

        // Replayed under new event ids, concurrently, plus a retry of one refused call refused again in a batch of its own
        // (the ledger publishes a refused retry again): each refusal still counts once.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => billing.Bus.PublishAsync(refused)));
        var retry = new RefusedUsageGroup(suspended);
        retry.RequestIds.Clear(); retry.OccurredAtMs.Clear();
        retry.RequestIds.Add(suspended.RequestIds[0]); retry.OccurredAtMs.Add(suspended.OccurredAtMs[0]);
        await billing.PublishAsync(new UsageCharged { Refused = { retry, retry } });
        // The same refusals applied by many script runs at once (the dedupe and the counting are one Lua step).
        var records = suspended.RequestIds.Select(id => new ApplyUsageScript.Record(id, UsageKind.RefusedSuspended, ChinaCalendar.DateOf(Day1), "basic_authoritative", (int)AccessMode.Saas, "")).ToList();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => ApplyUsageScript.Instance.RunAsync(billing.Db, new(account, records, DateTimeOffset.UtcNow, TimeSpan.FromDays(30)))));
        await billing.ConsumedAsync(EventTopics.UsageCharged);

        var days = await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-12T00:00", Granularity.Day);
        Assert.Equal(
        [
            ("2030-05-10", 5L, 5L, 5L, 500L, 7L, 5L, 2L, 0L),   // refusals are never calls, billable or postpaid, nor priced
            ("2030-05-11", 0L, 0L, 0L, 0L, 3L, 0L, 0L, 3L),     // a day with refusals only has its row
        ], days.Select(r => (r.Period, r.Calls, r.BillableCalls, r.PostpaidCalls, r.PostpaidAmountFen, r.RefusedCalls, r.RefusedSuspendedCalls, r.RefusedNotOpenedCalls, r.RefusedNotVerifiedCalls)));
        var bySub = await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-11T00:00", Granularity.Day, byMode: true, bySub: true);
        Assert.Equal(
        [
            (AccessMode.Saas, "", 5L, 6L),
            (AccessMode.Paas, "sub-r", 0L, 1L),
        ], bySub.Select(r => (r.AccessMode, r.SubAccountId, r.Calls, r.RefusedCalls)));

        // A refused request id does not block a later charge of the same id (a retry the ledger charged): it counts as a call.
        await billing.ChargeAsync([Usage.Record(account, "basic_authoritative", Day2, 'O', requestId: notVerified.RequestIds[0])]);
        var day2 = Assert.Single(await billing.StatisticsAsync(account, "2030-05-11T00:00", "2030-05-12T00:00", Granularity.Day));
        Assert.Equal((1L, 1L, 3L), (day2.Calls, day2.PostpaidCalls, day2.RefusedNotVerifiedCalls));
        // … and the same refusal replayed after it changes nothing.
        await billing.PublishAsync(new UsageCharged { Refused = { notVerified } });
        Assert.Equal(day2, Assert.Single(await billing.StatisticsAsync(account, "2030-05-11T00:00", "2030-05-12T00:00", Granularity.Day)));
    }

    [Fact]
    public async Task R_BIL_1_records_at_15_59_59Z_and_16_00_00Z_fall_on_consecutive_Shanghai_days_and_months()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-05-01T09:00"), SettlementCycle.Daily);
        var lastSecondOfMay = DateTimeOffset.Parse("2030-05-31T15:59:59Z", System.Globalization.CultureInfo.InvariantCulture);
        await billing.ChargeAsync(
        [
            Usage.Record(account, "basic_self_photo", lastSecondOfMay),
            Usage.Record(account, "basic_self_photo", lastSecondOfMay.AddSeconds(1)),
        ]);

        var days = await billing.StatisticsAsync(account, "2030-05-31T00:00", "2030-06-02T00:00", Granularity.Day);
        Assert.Equal([("2030-05-31", 1L), ("2030-06-01", 1L)], days.Select(r => (r.Period, r.Calls)));
        var months = await billing.StatisticsAsync(account, "2030-05-01T00:00", "2030-07-01T00:00", Granularity.Month);
        Assert.Equal([("2030-05", 1L), ("2030-06", 1L)], months.Select(r => (r.Period, r.Calls)));
        // A range is a set of Shanghai days: [2030-05-31 12:00, 2030-05-31 13:00) still shows that whole day.
        var oneDay = await billing.StatisticsAsync(account, "2030-05-31T12:00", "2030-05-31T13:00", Granularity.Day);
        Assert.Equal("2030-05-31", Assert.Single(oneDay).Period);
    }

    [Fact]
    public async Task R_BIL_1_rows_are_paged()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-05-01T09:00"), SettlementCycle.Daily);
        var labels = new[] { "basic_authoritative", "basic_self_photo", "id_info_check" };
        await billing.ChargeAsync(Enumerable.Range(0, 5).SelectMany(d => labels.Select(l => Usage.Record(account, l, Day1.AddDays(d)))));

        var seen = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await billing.Client.GetStatisticsAsync(new GetStatisticsRequest
            {
                AccountId = account, From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Day1.AddHours(-10)),
                To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Day1.AddDays(5)), Granularity = Granularity.Day,
                Page = new PageRequest { PageSize = 4, PageToken = token },
            });
            Assert.True(page.Rows.Count <= 4);
            seen.AddRange(page.Rows.Select(r => r.Period + "/" + r.Label));
            token = page.NextPageToken;
            pages++;
        } while (token.Length > 0);
        Assert.Equal(4, pages);
        Assert.Equal(15, seen.Distinct().Count());
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task R_PKG_4_backdated_calls_move_from_postpaid_to_package_once_whatever_the_order_of_events()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-05-01T09:00"), SettlementCycle.Daily);
        var early = Usage.Many(3, account, "basic_authoritative", Day1, 'O').ToList();
        var late = Usage.Many(2, account, "basic_authoritative", Day1, 'O').ToList();
        await billing.ChargeAsync(early);

        // Backdated: 3 known postpaid calls, and 2 whose usage event has not arrived yet.
        var backdated = new UsageBackdated
        {
            AccountId = account, PackageId = "pkg-new", Label = "basic_authoritative",
            RequestIds = { early.Select(r => r.RequestId), late.Select(r => r.RequestId) },
        };
        await billing.PublishAsync(backdated);
        await billing.PublishAsync(backdated); // replayed under a new id: nothing moves twice
        await billing.ChargeAsync(late);

        var row = Assert.Single(await billing.StatisticsAsync(account, "2030-05-10T00:00", "2030-05-11T00:00", Granularity.Day));
        Assert.Equal((5L, 5L, 5L, 0L, 0L), (row.Calls, row.BillableCalls, row.PackageCalls, row.PostpaidCalls, row.PostpaidAmountFen));
    }
}
