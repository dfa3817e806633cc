using FaceId.Common;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>docs/rules.md §3: packages, validity, deduction order, backdating, exactly once.</summary>
public sealed class PackageRulesTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static DateTimeOffset Shanghai(int y, int m, int d, int h = 0, int min = 0, int s = 0, int ms = 0) =>
        new DateTimeOffset(y, m, d, h, min, s, ChinaCalendar.Offset).AddMilliseconds(ms);

    [Fact]
    public async Task R_PKG_1_each_purchase_is_its_own_package_and_needs_an_opened_service()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var a = await host.BuyAsync(account, "basic_authoritative", 1000);
        var b = await host.BuyAsync(account, "basic_authoritative", 1000);
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(2, (await host.Packages.ListAsync(account, "basic_authoritative", null)).Count);
        Assert.Equal(93000, a.PriceFen); // 930 yuan (docs/rules.md §5.1)

        var unopened = TestIds.New("acct");
        await host.Ledger.RegisterAccountAsync(unopened, null);
        var e = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.BuyAsync(unopened, "basic_authoritative", 1000));
        Assert.Equal("SERVICE_NOT_OPENED", e.Reason); // R-ACC-2
    }

    [Fact]
    public async Task R_PKG_1_an_order_id_is_idempotent_and_cannot_be_reused_for_another_package()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var first = await host.Packages.PurchaseAsync("order-1", account, "basic_self_photo", 1000);
        var retry = await host.Packages.PurchaseAsync("order-1", account, "basic_self_photo", 1000);
        Assert.Equal(first.Id, retry.Id);
        Assert.Single(await host.Packages.ListAsync(account, null, null));
        var e = await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => host.Packages.PurchaseAsync("order-1", account, "basic_self_photo", 10000));
        Assert.Equal(("order_id", "size"), KeyRace.Refused(e));
        Assert.Single(await host.Packages.ListAsync(account, null, null));
        var sizes = await Assert.ThrowsAsync<InvalidInputException>(() => host.Packages.PurchaseAsync("order-2", account, "basic_self_photo", 1234));
        Assert.Equal("size", sizes.Violations.Single().Field);
    }

    [Fact]
    public async Task R_PKG_1_two_different_purchases_racing_on_one_order_id_buy_one_package()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        long[] sizes = [1000, 10000];

        var race = await KeyRace.RunAsync(20, (round, which) => host.Packages.PurchaseAsync("race-" + round, account, "basic_self_photo", sizes[which]));

        Assert.All(race, r => Assert.Equal(("order_id", "size"), KeyRace.Refused(r.Refusal)));
        var bought = await host.Packages.ListAsync(account, null, null);
        Assert.Equal(race.Select(r => sizes[r.Winner]).Order(), bought.Select(p => p.Size).Order());
    }

    [Fact]
    public async Task R_PKG_2_a_package_is_usable_from_00_00_of_its_purchase_day_until_the_anniversary_exclusive()
    {
        var bought = Shanghai(2026, 3, 10, 14, 30);
        await using var host = new LedgerHost(redis.ConnectionString, bought);
        var account = await host.OpenedAccountAsync(Shanghai(2025, 1, 1));
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        Assert.Equal(Shanghai(2026, 3, 10), package.ValidFrom);
        Assert.Equal(Shanghai(2027, 3, 10), package.ExpiresAt);

        // A late record from 00:00 of the purchase day is paid by the package; one a millisecond earlier is not.
        Assert.Equal(UsageKind.Package, (await host.UseAsync(account, "basic_authoritative", Shanghai(2026, 3, 10))).Kind);
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account, "basic_authoritative", Shanghai(2026, 3, 9, 23, 59, 59, 999))).Kind);

        host.Time.SetUtcNow(Shanghai(2027, 3, 10, 1));
        Assert.Equal(UsageKind.Package, (await host.UseAsync(account, "basic_authoritative", Shanghai(2027, 3, 9, 23, 59, 59, 999))).Kind);
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account, "basic_authoritative", Shanghai(2027, 3, 10))).Kind);
        Assert.Equal(PackageState.Expired, (await host.Reader.GetPackageAsync(account, package.Id))!.StateAt(host.Time.GetUtcNow()));
    }

    [Fact]
    public async Task R_PKG_2_a_package_bought_on_29_February_expires_at_00_00_of_28_February()
    {
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2028, 2, 29, 9));
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        Assert.Equal(Shanghai(2029, 2, 28), package.ExpiresAt);
    }

    [Fact]
    public async Task R_PKG_3_free_packages_are_deducted_before_purchased_ones_then_earliest_expiry()
    {
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2026, 3, 10, 10));
        var account = await host.OpenedAccountAsync();
        var older = await host.BuyAsync(account, "basic_authoritative", 1000);
        host.Time.Advance(TimeSpan.FromDays(1));
        var newer = await host.BuyAsync(account, "basic_authoritative", 1000);
        host.Time.Advance(TimeSpan.FromDays(1));
        var (trial, _) = await host.Grants.GrantTrialAsync(account, host.Time.GetUtcNow()); // free, and the latest expiry

        var freeId = (await host.Packages.ListAsync(account, "basic_authoritative", null)).Single(p => p.Free).Id;
        Assert.Contains(freeId, trial);
        for (var i = 0; i < 100; i++) Assert.Equal(freeId, (await host.UseAsync(account, "basic_authoritative")).PackageId);
        Assert.Equal(older.Id, (await host.UseAsync(account, "basic_authoritative")).PackageId);
        Assert.Equal(0, (await host.Reader.GetPackageAsync(account, newer.Id))!.Used);
    }

    [Fact]
    public async Task R_PKG_3_with_equal_expiry_the_earlier_purchase_goes_first_including_29_February()
    {
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2028, 2, 28, 23, 0));
        var account = await host.OpenedAccountAsync();
        var feb28 = await host.BuyAsync(account, "basic_authoritative", 1000);
        host.Time.SetUtcNow(Shanghai(2028, 2, 29, 8));
        var feb29 = await host.BuyAsync(account, "basic_authoritative", 1000);
        Assert.Equal(feb28.ExpiresAt, feb29.ExpiresAt); // both end at 2029-02-28 00:00
        host.Time.SetUtcNow(Shanghai(2028, 2, 29, 9));
        var sameDayA = await host.BuyAsync(account, "basic_self_photo", 1000);
        var sameDayB = await host.BuyAsync(account, "basic_self_photo", 1000);

        Assert.Equal(feb28.Id, (await host.UseAsync(account, "basic_authoritative")).PackageId);
        // Same expiry and same purchase instant: the package id decides.
        var (first, second) = string.CompareOrdinal(sameDayA.Id, sameDayB.Id) < 0 ? (sameDayA, sameDayB) : (sameDayB, sameDayA);
        Assert.Equal(first.Id, (await host.UseAsync(account, "basic_self_photo")).PackageId);
        Assert.Equal(0, (await host.Reader.GetPackageAsync(account, second.Id))!.Used);
    }

    [Fact]
    public async Task R_PKG_3_packages_of_one_day_are_used_by_purchase_time_then_id_whatever_order_they_arrive_in()
    {
        // Packages of one label, kind and purchase day share one list of the deduction index; purchases
        // that arrive out of order (concurrent orders, several packages of one instant) are put in place.
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2026, 3, 10, 12));
        var account = await host.OpenedAccountAsync(Shanghai(2026, 1, 1));
        int[] minutes = [5, 1, 3, 1, 1, 7, 3, 0];
        var created = new List<(DateTimeOffset At, string Id)>();
        for (var i = 0; i < minutes.Length; i++)
        {
            var at = Shanghai(2026, 3, 10, 10, minutes[i]);
            var (ids, _) = await host.Ledger.CreatePackagesAsync(account, $"order:o{i}",
                [new NewPackage("basic_authoritative", 2, 100, false, "2021-06")], at, requireOpenedService: true, orderId: $"o{i}");
            created.Add((at, ids.Single()));
        }
        var expected = created.OrderBy(c => c.At).ThenBy(c => c.Id, StringComparer.Ordinal).SelectMany(c => new[] { c.Id, c.Id }).ToList();
        var used = new List<string>();
        for (var i = 0; i < expected.Count; i++) used.Add((await host.UseAsync(account, "basic_authoritative")).PackageId);
        Assert.Equal(expected, used);
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account, "basic_authoritative")).Kind);
        // Every package used up: the index is empty, and the listing still shows all of them in purchase order.
        Assert.Equal(0, await host.Redis.SortedSetLengthAsync(LedgerKeys.Available(account, "basic_authoritative")));
        Assert.Equal(expected.Distinct(), (await host.Reader.ListPackagesAsync(account)).Select(p => p.Id));
    }

    [Fact]
    public async Task R_PKG_3_when_no_package_is_usable_the_call_falls_back_to_postpaid_by_itself()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account, "basic_authoritative")).Kind);
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        Assert.Equal(UsageKind.Package, (await host.UseAsync(account, "basic_authoritative")).Kind);
        for (var i = 0; i < 999; i++) await host.UseAsync(account, "basic_authoritative");
        Assert.Equal(1000, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account, "basic_authoritative")).Kind);
    }

    [Fact]
    public async Task R_PKG_4_a_purchase_at_23_59_backdates_that_day_s_postpaid_calls_oldest_first_only()
    {
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2026, 3, 10, 9));
        var account = await host.OpenedAccountAsync();
        var yesterday = await host.UseAsync(account, "basic_authoritative", Shanghai(2026, 3, 9, 23, 59));
        var today = new List<UsageResult>();
        for (var i = 0; i < 3; i++) today.Add(await host.UseAsync(account, "basic_authoritative", Shanghai(2026, 3, 10, 9, i)));
        var otherLabel = await host.UseAsync(account, "basic_self_photo", Shanghai(2026, 3, 10, 8, 30));
        Assert.All(today, r => Assert.Equal(UsageKind.Postpaid, r.Kind));

        host.Time.SetUtcNow(Shanghai(2026, 3, 10, 23, 59));
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);

        Assert.Equal(3, package.Used);
        Assert.Equal(3, package.Backdated);
        foreach (var r in today)
        {
            var now = await host.Metering.GetAsync(account, r.RequestId);
            Assert.Equal(UsageKind.Package, now.Kind);
            Assert.Equal(package.Id, now.PackageId);
        }
        Assert.Equal(UsageKind.Postpaid, (await host.Metering.GetAsync(account, yesterday.RequestId)).Kind);
        Assert.Equal(UsageKind.Postpaid, (await host.Metering.GetAsync(account, otherLabel.RequestId)).Kind);
        Assert.Equal(3, await host.CounterAsync(account, Shanghai(2026, 3, 10), "basic_authoritative|P"));
        Assert.Equal(0, await host.CounterAsync(account, Shanghai(2026, 3, 10), "basic_authoritative|O"));
        Assert.Equal(1, await host.CounterAsync(account, Shanghai(2026, 3, 9), "basic_authoritative|O"));
        var backdated = (await host.OutboxAsync(account)).Single(e => e.Topic == "faceid.usage.backdated.v1");
        Assert.Equal("backdated:" + package.Id, backdated.Id);
        Assert.All(today, r => Assert.Contains(r.RequestId, backdated.Data));
    }

    [Fact]
    public async Task R_PKG_4_backdating_moves_at_most_the_package_size_oldest_first()
    {
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2026, 3, 10, 8));
        var account = await host.OpenedAccountAsync();
        var calls = new List<UsageResult>();
        // 1,005 postpaid calls today, then a 1,000-call package: the 1,000 oldest move, 5 stay postpaid.
        var batch = Enumerable.Range(0, 1005).Select(i => new UsageInput(TestIds.New("req"), account, "basic_authoritative", "",
            Contracts.Common.V1.ComparisonLibrary.Unspecified, Contracts.Common.V1.AccessMode.Paas, "0", Shanghai(2026, 3, 10, 8).AddSeconds(-i))).ToList();
        calls.AddRange(await host.Metering.RecordBatchAsync(batch));
        host.Time.Advance(TimeSpan.FromHours(1));
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);

        Assert.Equal(1000, package.Used);
        Assert.Equal(PackageState.Exhausted, package.StateAt(host.Time.GetUtcNow()));
        var newest = calls.Take(5).Select(c => c.RequestId); // the latest five (smallest offsets)
        foreach (var id in newest) Assert.Equal(UsageKind.Postpaid, (await host.Metering.GetAsync(account, id)).Kind);
        Assert.Contains(await host.OutboxAsync(account), e => e.Id == $"alert:{package.Id}:PACKAGE_ALERT_KIND_EXHAUSTED");
    }

    [Fact]
    public async Task R_PKG_5_a_retried_request_never_deducts_again_and_returns_the_original_outcome()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var first = await host.UseAsync(account, "basic_authoritative", requestId: "req-retry");
        var retry = await host.UseAsync(account, "basic_authoritative", requestId: "req-retry");
        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate);
        Assert.Equal((first.Kind, first.PackageId, first.PackageRemaining), (retry.Kind, retry.PackageId, retry.PackageRemaining));
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }

    [Fact]
    public async Task R_ONB_3_a_legacy_account_s_trial_is_of_its_own_price_book_so_its_calls_use_it()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync(new DateTimeOffset(2021, 6, 1, 10, 0, 0, ChinaCalendar.Offset), priceBook: "legacy", cycle: Settlement.Monthly);

        await host.Grants.GrantTrialAsync(account, host.Time.GetUtcNow());

        var trial = await host.Reader.ListPackagesAsync(account);
        Assert.Equal(host.Catalog.TrialLabels("legacy").Select(l => l.Id).Order(), trial.Select(p => p.Label).Order());
        Assert.All(trial, p => Assert.Equal((100L, true, "legacy"), (p.Size, p.Free, p.PriceBook)));
        // A WeChat mini-program call of a legacy account is billed under its legacy label: the trial pays for it.
        var call = (await host.Metering.RecordAsync(new UsageInput(TestIds.New("req"), account, "", "wechat_mini_program",
            Contracts.Common.V1.ComparisonLibrary.Authoritative, Contracts.Common.V1.AccessMode.Saas, "0", host.Time.GetUtcNow()))).OrThrow();
        Assert.Equal((UsageKind.Package, "legacy_wechat_liveness_verification", 99L), (call.Kind, call.Label, call.PackageRemaining));
        Assert.Equal(trial.Single(p => p.Label == "legacy_wechat_liveness_verification").Id, call.PackageId);
    }

    [Fact]
    public async Task R_PKG_6_low_balance_fires_when_one_call_takes_remaining_below_20_percent_and_exhausted_at_zero_once_each()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var (ids, _) = await host.Grants.GrantTrialAsync(account, host.Time.GetUtcNow());
        string Alert(string pkg, string kind) => $"alert:{pkg}:PACKAGE_ALERT_KIND_{kind}";
        for (var i = 0; i < 80; i++) await host.UseAsync(account, "basic_authoritative");
        var pkg = (await host.Packages.ListAsync(account, "basic_authoritative", null)).Single();
        Assert.Equal(20, pkg.Remaining); // exactly 20 %: not below
        Assert.DoesNotContain(await host.OutboxAsync(account), e => e.Id == Alert(pkg.Id, "LOW_BALANCE"));

        var crossing = await host.UseAsync(account, "basic_authoritative");
        Assert.Equal(19, crossing.PackageRemaining);
        Assert.Single(await host.OutboxAsync(account), e => e.Id == Alert(pkg.Id, "LOW_BALANCE"));
        for (var i = 0; i < 19; i++) await host.UseAsync(account, "basic_authoritative");
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account, "basic_authoritative")).Kind);

        var outbox = await host.OutboxAsync(account);
        Assert.Single(outbox, e => e.Id == Alert(pkg.Id, "LOW_BALANCE"));
        Assert.Single(outbox, e => e.Id == Alert(pkg.Id, "EXHAUSTED"));
        Assert.Contains("\"remaining\":\"0\"", outbox.Single(e => e.Id == Alert(pkg.Id, "EXHAUSTED")).Data);
        Assert.Equal(6, outbox.Count(e => e.Topic == "faceid.packages.delivered.v1"));
    }

    [Fact]
    public async Task R_PKG_6_expiring_7d_and_1d_and_expired_alerts_fire_once_when_calls_remain()
    {
        var bought = Shanghai(2026, 3, 10, 10);
        await using var host = new LedgerHost(redis.ConnectionString, bought);
        var account = await host.OpenedAccountAsync();
        var withCalls = await host.BuyAsync(account, "basic_authoritative", 1000);
        await host.Ledger.SetEnterpriseVerifiedAsync(account, bought); // E证通 (R-ONB-4)
        var usedUp = await host.BuyAsync(account, "eid_authoritative", 1000);
        await host.Metering.RecordBatchAsync(Enumerable.Range(0, 1000).Select(_ => new UsageInput(TestIds.New("req"), account, "eid_authoritative", "",
            Contracts.Common.V1.ComparisonLibrary.Unspecified, Contracts.Common.V1.AccessMode.Saas, "0", host.Time.GetUtcNow())).ToList());
        var scheduler = host.Scheduler;
        string Alert(string kind) => $"alert:{withCalls.Id}:PACKAGE_ALERT_KIND_{kind}";

        host.Time.SetUtcNow(Shanghai(2027, 3, 3) - TimeSpan.FromMilliseconds(1));
        await scheduler.RunDueAsync();
        Assert.DoesNotContain(await host.OutboxAsync(account), e => e.Id == Alert("EXPIRING_7D"));
        host.Time.SetUtcNow(Shanghai(2027, 3, 3));
        await scheduler.RunDueAsync();
        await scheduler.RunDueAsync();
        Assert.Single(await host.OutboxAsync(account), e => e.Id == Alert("EXPIRING_7D"));

        host.Time.SetUtcNow(Shanghai(2027, 3, 10));
        await scheduler.RunDueAsync();
        var outbox = await host.OutboxAsync(account);
        Assert.Single(outbox, e => e.Id == Alert("EXPIRING_1D"));
        Assert.Single(outbox, e => e.Id == Alert("EXPIRED"));
        Assert.DoesNotContain(outbox, e => e.Id.StartsWith($"alert:{usedUp.Id}:PACKAGE_ALERT_KIND_EXP", StringComparison.Ordinal));

        // After the late window the package leaves the deduction index; it stays listed as expired.
        host.Time.SetUtcNow(Shanghai(2027, 3, 18, 1));
        await scheduler.RunDueAsync();
        Assert.Equal(0, await host.Redis.SortedSetLengthAsync(LedgerKeys.Available(account, "basic_authoritative")));
        Assert.Equal(PackageState.Expired, (await host.Reader.GetPackageAsync(account, withCalls.Id))!.StateAt(host.Time.GetUtcNow()));
    }

    [Fact]
    public async Task R_PKG_7_packages_and_balances_show_size_used_remaining_validity_and_status()
    {
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2026, 3, 10, 10));
        var account = await host.OpenedAccountAsync();
        var a = await host.BuyAsync(account, "basic_authoritative", 1000);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        await host.BuyAsync(account, "basic_authoritative", 1000);
        for (var i = 0; i < 10; i++) await host.UseAsync(account, "basic_authoritative");
        await host.BuyAsync(account, "basic_self_photo", 1000);

        var balances = await host.Packages.BalancesAsync(account);
        Assert.Equal(1990, balances.Single(x => x.Label == "basic_authoritative").Remaining);
        Assert.Equal(2, balances.Single(x => x.Label == "basic_authoritative").ActivePackages);
        Assert.Equal(1000, balances.Single(x => x.Label == "basic_self_photo").Remaining);
        var listed = (await host.Packages.ListAsync(account, "basic_authoritative", null)).Single(p => p.Id == a.Id);
        Assert.Equal((1000L, 10L, 990L), (listed.Size, listed.Used, listed.Remaining));
        Assert.Equal(PackageState.Active, listed.StateAt(host.Time.GetUtcNow()));

        host.Time.SetUtcNow(Shanghai(2027, 3, 10));
        Assert.Empty(await host.Packages.BalancesAsync(account));
        Assert.Equal(3, (await host.Packages.ListAsync(account, null, PackageState.Expired)).Count);
    }
}
