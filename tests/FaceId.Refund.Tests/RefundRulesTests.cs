using FaceId.Common;
using FaceId.Contracts;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.Refund.Application;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Refund.Tests;

/// <summary>docs/rules.md §7 on the application classes, real Redis, fake time.</summary>
public sealed class RefundRulesTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly Dictionary<string, string?> Deferred = new() { ["Refund:CompleteInline"] = "false" };

    internal static DateTimeOffset Shanghai(int y, int m, int d, int h = 0, int min = 0, int s = 0, int ms = 0) =>
        new DateTimeOffset(y, m, d, h, min, s, ChinaCalendar.Offset).AddMilliseconds(ms);

    [Fact]
    public async Task R_REF_1_bought_2021_02_14_14_30_is_refundable_until_2021_02_21_23_59_59_999_and_refused_at_2021_02_22_00_00_Shanghai()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, Shanghai(2021, 2, 14, 14, 30));
        var account = await host.OpenedAccountAsync(Shanghai(2021, 1, 4), "legacy");
        var first = await host.BuyAsync(account, "legacy_liveness_verification", 100);
        var second = await host.BuyAsync(account, "legacy_liveness_verification", 100);
        Assert.Equal(9900, first.PriceFen); // 99 yuan

        host.Time.SetUtcNow(Shanghai(2021, 2, 21, 23, 59, 59, 999));
        var refund = await host.RefundAsync(account, first.Id);
        Assert.Equal(RefundState.Credited, refund.State);
        Assert.Equal(9900, refund.AmountFen);
        Assert.Equal(PackageState.Refunded, (await host.PackageAsync(account, first.Id)).StateAt(host.Time.GetUtcNow()));

        host.Time.SetUtcNow(Shanghai(2021, 2, 22));
        var closed = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, second.Id));
        Assert.Equal("REFUND_WINDOW_CLOSED", closed.Reason);
        Assert.Equal("package_id", closed.Subject);
        Assert.Contains("2021-02-21 23:59:59", closed.Message);
        // The refused package is untouched and still pays for calls.
        Assert.Equal(second.Id, (await host.UseAsync(account, "legacy_liveness_verification")).PackageId);
        Assert.Equal(9900, (await host.RefundEventsAsync(account)).Single().AmountFen);
    }

    [Fact]
    public async Task R_REF_1_a_free_trial_package_is_never_refundable()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        await host.Grants.GrantTrialAsync(account, host.Time.GetUtcNow());
        var trial = (await host.Packages.ListAsync(account, "basic_self_photo", null)).Single();
        Assert.True(trial.Free);

        var e = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, trial.Id));
        Assert.Equal("REFUND_PACKAGE_FREE", e.Reason);
        Assert.Equal(trial.Id, (await host.UseAsync(account)).PackageId);
        Assert.Empty(await host.RefundEventsAsync(account));
    }

    [Fact]
    public async Task R_REF_1_a_package_used_once_is_refused()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account);
        Assert.Equal(package.Id, (await host.UseAsync(account)).PackageId);

        var e = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, package.Id));
        Assert.Equal("REFUND_PACKAGE_USED", e.Reason);
        Assert.Equal(PackageState.Active, (await host.PackageAsync(account, package.Id)).StateAt(host.Time.GetUtcNow()));
        Assert.Empty(await host.RefundEventsAsync(account));
    }

    [Fact]
    public async Task R_REF_1_a_refused_refund_publishes_one_RefundRejected_however_often_its_key_is_retried_at_once()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        await host.UseAsync(account, "basic_authoritative");

        var refusals = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
            Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, package.Id, "refused-once")))));
        Assert.All(refusals, e => Assert.Equal("REFUND_PACKAGE_USED", e.Reason));
        await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, package.Id, "refused-once")); // a later retry

        var events = (await host.OutboxAsync(account)).Where(e => e.Topic == EventTopics.RefundRejected).ToList();
        var (_, id, data) = Assert.Single(events);
        var rejected = Google.Protobuf.JsonParser.Default.Parse<Contracts.Events.V1.RefundRejected>(data);
        Assert.Equal("refund-rejected:" + rejected.RefundId, id);
        Assert.Equal(RefundState.Rejected, (await host.Refunds.GetRefundAsync(account, rejected.RefundId)).State);
        Assert.Equal((account, package.Id, "basic_authoritative", 93000L, "REFUND_PACKAGE_USED"),
            (rejected.AccountId, rejected.PackageId, rejected.Label, rejected.AmountFen, rejected.Reason));
        Assert.Equal(host.Time.GetUtcNow(), rejected.RejectedAt.ToDateTimeOffset());

        // Another request (another key) is another refusal, and another event.
        await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, package.Id, "refused-twice"));
        Assert.Equal(2, (await host.OutboxAsync(account)).Count(e => e.Topic == EventTopics.RefundRejected));
        Assert.Empty(await host.RefundEventsAsync(account));
    }

    [Fact]
    public async Task R_REF_1_a_package_that_only_received_a_backdated_call_is_refused()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, Shanghai(2026, 3, 10, 9));
        var account = await host.OpenedAccountAsync();
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account)).Kind); // earlier that day, no package yet
        host.Time.SetUtcNow(Shanghai(2026, 3, 10, 14, 30));
        var package = await host.BuyAsync(account); // R-PKG-4: the morning's call moves onto it
        Assert.Equal(1, package.Backdated);
        Assert.Equal(1, package.Used);

        var e = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, package.Id));
        Assert.Equal("REFUND_PACKAGE_USED", e.Reason);
    }

    [Fact]
    public async Task R_REF_1_another_accounts_package_is_not_found_and_bad_input_names_every_field()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var owner = await host.OpenedAccountAsync();
        var other = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(owner);

        var notFound = await Assert.ThrowsAsync<NotFoundException>(() => host.RefundAsync(other, package.Id));
        Assert.Equal("package", notFound.ResourceType);
        await Assert.ThrowsAsync<NotFoundException>(() => host.RefundAsync(owner, "pkg_does_not_exist"));
        Assert.Equal(PackageState.Active, (await host.PackageAsync(owner, package.Id)).StateAt(host.Time.GetUtcNow()));

        var bad = await Assert.ThrowsAsync<InvalidInputException>(() => host.Refunds.RequestRefundAsync("", "acct with spaces", new string('p', 129)));
        Assert.Equal(["idempotency_key", "account_id", "package_id"], bad.Violations.Select(v => v.Field));
    }

    [Fact]
    public async Task R_REF_2_a_package_being_refunded_is_skipped_by_metering_and_calls_go_postpaid()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, settings: Deferred);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account);

        var refund = await host.RefundAsync(account, package.Id);
        Assert.Equal(RefundState.Approved, refund.State); // frozen, credit deferred
        Assert.Equal(PackageState.Refunding, (await host.PackageAsync(account, package.Id)).StateAt(host.Time.GetUtcNow()));
        var call = await host.UseAsync(account);
        Assert.Equal(UsageKind.Postpaid, call.Kind);
        Assert.Equal(0, (await host.PackageAsync(account, package.Id)).Used);
    }

    [Fact]
    public async Task R_REF_1_refunds_of_two_packages_racing_on_one_key_refund_one_and_refuse_the_other()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        const int rounds = 20;
        var packages = new List<string[]>();
        for (var round = 0; round < rounds; round++) packages.Add([(await host.BuyAsync(account)).Id, (await host.BuyAsync(account)).Id]);

        var race = await KeyRace.RunAsync(rounds, (round, which) => host.RefundAsync(account, packages[round][which], "race-" + round));

        Assert.All(race, r => Assert.Equal(("idempotency_key", "package_id"), KeyRace.Refused(r.Refusal)));
        for (var round = 0; round < rounds; round++)
        {
            var (winner, loser) = (packages[round][race[round].Winner], packages[round][1 - race[round].Winner]);
            Assert.Equal(PackageState.Refunded, (await host.PackageAsync(account, winner)).StateAt(host.Time.GetUtcNow()));
            Assert.Equal(PackageState.Active, (await host.PackageAsync(account, loser)).StateAt(host.Time.GetUtcNow()));
        }
        Assert.Equal(rounds, (await host.RefundEventsAsync(account)).Count);
    }

    [Fact]
    public async Task R_REF_3_concurrent_retries_with_one_key_credit_the_price_once()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => host.RefundAsync(account, package.Id, "refund-once"))));
        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.All(results, r => Assert.Equal(RefundState.Credited, r.State));
        var completed = Assert.Single(await host.RefundEventsAsync(account));
        Assert.Equal(93000, completed.AmountFen); // 930 yuan, the full price
        Assert.Equal(results[0].Id, completed.RefundId);
        Assert.Equal(PackageState.Refunded, (await host.PackageAsync(account, package.Id)).StateAt(host.Time.GetUtcNow()));

        // A later retry answers the same; another key is refused and names the refund that exists.
        Assert.Equal(results[0].Id, (await host.RefundAsync(account, package.Id, "refund-once")).Id);
        var again = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, package.Id, "another-key"));
        Assert.Equal("REFUND_ALREADY_REQUESTED", again.Reason);
        Assert.Contains(results[0].Id, again.Message);
        // Reusing a key for another package is refused rather than answered with the first refund.
        var other = await host.BuyAsync(account);
        var reused = await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => host.RefundAsync(account, other.Id, "refund-once"));
        Assert.Equal(("idempotency_key", "package_id"), KeyRace.Refused(reused));
        Assert.Single(await host.RefundEventsAsync(account));
    }

    [Fact]
    public async Task R_REF_3_get_and_list_show_each_refunds_state_and_history()
    {
        var start = Shanghai(2026, 3, 10, 10);
        await using var host = new RefundTestHost(redis.ConnectionString, start, Deferred);
        var account = await host.OpenedAccountAsync();
        var refunded = await host.BuyAsync(account);
        var used = await host.BuyAsync(account, "basic_authoritative", 1000);
        await host.UseAsync(account, "basic_authoritative");

        host.Time.Advance(TimeSpan.FromMinutes(1));
        var approved = await host.RefundAsync(account, refunded.Id, "k-1");
        Assert.Equal(RefundState.Approved, approved.State);
        Assert.Equal([RefundState.Requested, RefundState.Approved], approved.History.Select(h => h.State));
        Assert.Equal(14500, approved.AmountFen);
        Assert.Equal(start.AddMinutes(1), approved.RequestedAt);

        host.Time.Advance(TimeSpan.FromMinutes(1));
        var rejected = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, used.Id, "k-2"));
        // The refusal is recorded: a retry with its key gets it again, and it is listed as rejected.
        var retried = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, used.Id, "k-2"));
        Assert.Equal((rejected.Reason, rejected.Message), (retried.Reason, retried.Message));

        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await host.Worker.RunDueAsync() >= 1); // the deferred credit
        var credited = await host.Refunds.GetRefundAsync(account, approved.Id);
        Assert.Equal(RefundState.Credited, credited.State);
        Assert.Equal([RefundState.Requested, RefundState.Approved, RefundState.Credited], credited.History.Select(h => h.State));
        Assert.Equal(start.AddMinutes(3), credited.History[^1].At);
        Assert.Contains("145.00 CNY", credited.History[^1].Note);

        var (first, token) = await host.Refunds.ListRefundsAsync(account, 1, "");
        Assert.Equal(approved.Id, Assert.Single(first).Id);
        var (second, end) = await host.Refunds.ListRefundsAsync(account, 1, token);
        var listedRejection = Assert.Single(second);
        Assert.Equal("", end);
        Assert.Equal(RefundState.Rejected, listedRejection.State);
        Assert.Equal("REFUND_PACKAGE_USED", listedRejection.RejectionReason);
        Assert.Equal(used.Id, listedRejection.PackageId);
        Assert.Equal([RefundState.Requested, RefundState.Rejected], listedRejection.History.Select(h => h.State));
        Assert.Equal(rejected.Message, listedRejection.History[^1].Note);
        Assert.Equal(2, (await host.Refunds.ListRefundsAsync(account, 0, "")).Refunds.Count);

        var stranger = await host.OpenedAccountAsync();
        await Assert.ThrowsAsync<NotFoundException>(() => host.Refunds.GetRefundAsync(stranger, approved.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => host.Refunds.GetRefundAsync(account, approved.Id + ":history"));
        await Assert.ThrowsAsync<NotFoundException>(() => host.Refunds.GetRefundAsync(account, "idem:k-1"));
        var bad = await Assert.ThrowsAsync<InvalidInputException>(() => host.Refunds.ListRefundsAsync("", 501, "not-a-token"));
        Assert.Equal(["account_id", "page.page_size", "page.page_token"], bad.Violations.Select(v => v.Field));
    }

    [Fact]
    public async Task R_REF_3_the_worker_credits_an_approved_refund_once_and_drops_entries_whose_refund_never_came_to_be()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Refund:CompleteInline"] = "false",
            ["Refund:CompletionGraceMs"] = "30000",
        });
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account);
        var refund = await host.RefundAsync(account, package.Id);
        var member = PendingRefunds.Member(account, refund.Id);
        var ghost = PendingRefunds.Member(account, "ref_never_frozen");
        await host.Pending.AddAsync(ghost, host.Time.GetUtcNow());

        // Within the grace period nothing is taken: the freeze of a fresh entry may still be on its way.
        await host.Worker.RunDueAsync();
        Assert.NotNull(await host.Pending.ScoreAsync(member));
        Assert.NotNull(await host.Pending.ScoreAsync(ghost));
        Assert.Equal(RefundState.Approved, (await host.Refunds.GetRefundAsync(account, refund.Id)).State);

        host.Time.Advance(TimeSpan.FromSeconds(31));
        await host.Worker.RunDueAsync();
        await host.Worker.RunDueAsync();
        Assert.Null(await host.Pending.ScoreAsync(member));
        Assert.Null(await host.Pending.ScoreAsync(ghost));
        Assert.Equal(RefundState.Credited, (await host.Refunds.GetRefundAsync(account, refund.Id)).State);
        Assert.Equal(CompletionOutcome.AlreadyCredited, await host.Refunds.CompleteAsync(account, refund.Id));
        Assert.Equal(14500, Assert.Single(await host.RefundEventsAsync(account)).AmountFen);
    }
}
