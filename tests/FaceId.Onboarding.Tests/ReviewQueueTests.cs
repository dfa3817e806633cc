using FaceId.Auth;
using FaceId.Common;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Onboarding.Application;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>
/// The reviewers' queues, oldest first, each entry with its age against the 3-working-day target:
/// ListPendingApplications (business licenses, R-ONB-1) and ListPendingMerchantIds (E证通 merchant-id
/// requests, R-ONB-5). The account, application and enterprise classes run on a clock the test moves
/// (the rest of the service, token checks included, keeps real time).
/// </summary>
public sealed class ReviewQueueTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Monday = new(2026, 3, 2, 10, 0, 0, ChinaCalendar.Offset);
    private readonly MovableClock _clock = new(Monday);
    private InProcessService<OnboardingGrpcService> _onboarding = null!;

    public Task InitializeAsync()
    {
        _onboarding = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, Hosts.NewSinkDirectory(), services: services =>
        {
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<AccountStore>(sp, (TimeProvider)_clock));
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ServiceApplications>(sp, (TimeProvider)_clock));
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<EnterpriseStore>(sp, (TimeProvider)_clock));
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<EnterpriseApplication>(sp, (TimeProvider)_clock));
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _onboarding.DisposeAsync();

    private OnboardingService.OnboardingServiceClient As(string role, string? account = null) =>
        new(_onboarding.ChannelWithToken(TestAuth.Token(role, account)));

    /// <summary>
    /// A queue entry is written before its record: one whose record is not there yet is a submission in flight,
    /// kept and not listed (dropping it would hide the record once it lands); one missing for longer than a
    /// submission can take is a crash's orphan and dropped. Both queues, R-ONB-1 and R-ONB-5.
    /// </summary>
    [Fact]
    public async Task An_entry_whose_record_is_still_being_filed_stays_queued_and_an_old_orphan_is_dropped()
    {
        var db = redis.Database;
        var reviewer = As(Roles.Reviewer);
        foreach (var (key, list) in new (string, Func<Task>)[]
        {
            (AccountStore.PendingQueueKey, async () => await reviewer.ListPendingApplicationsAsync(new ListPendingApplicationsRequest { Page = new PageRequest { PageSize = 100 } })),
            (EnterpriseStore.PendingMerchantIdsKey, async () => await reviewer.ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest { Page = new PageRequest { PageSize = 100 } })),
        })
        {
            var inFlight = ReviewQueue.Member(TestIds.New("acc"), TestIds.New("app"));
            var orphan = ReviewQueue.Member(TestIds.New("acc"), TestIds.New("app"));
            await db.SortedSetAddAsync(key, inFlight, _clock.GetUtcNow().ToUnixTimeMilliseconds());
            await db.SortedSetAddAsync(key, orphan, (_clock.GetUtcNow() - ReviewQueue.OrphanAfter - TimeSpan.FromSeconds(1)).ToUnixTimeMilliseconds());

            await list();
            Assert.NotNull(await db.SortedSetScoreAsync(key, inFlight));
            Assert.Null(await db.SortedSetScoreAsync(key, orphan));
            await db.SortedSetRemoveAsync(key, inFlight);
        }
    }

    [Fact]
    public async Task R_ONB_1_pending_applications_come_oldest_first_in_pages_with_their_age_in_working_days_and_the_target()
    {
        var channel = _onboarding.Channel;
        async Task<FaceId.Contracts.Onboarding.V1.Application> SubmitAsync() =>
            await Steps.SubmitAsync(channel, (await Steps.CreateAccountAsync(channel)).AccountId);
        // Monday, Tuesday, Wednesday (approved at once), Thursday.
        var monday = await SubmitAsync();
        _clock.Now = Monday.AddDays(1);
        var tuesday = await SubmitAsync();
        _clock.Now = Monday.AddDays(2);
        await Steps.ReviewAsync(channel, (await SubmitAsync()).ApplicationId, approve: true);
        _clock.Now = Monday.AddDays(3);
        var thursday = await SubmitAsync();
        _clock.Now = Monday.AddDays(4); // Friday
        var reviewer = As(Roles.Reviewer);

        var first = await reviewer.ListPendingApplicationsAsync(new ListPendingApplicationsRequest { Page = new PageRequest { PageSize = 2 } });
        Assert.Equal([monday.ApplicationId, tuesday.ApplicationId], first.Applications.Select(p => p.Application.ApplicationId).ToArray());
        Assert.NotEmpty(first.NextPageToken);
        var second = await reviewer.ListPendingApplicationsAsync(new ListPendingApplicationsRequest { Page = new PageRequest { PageSize = 2, PageToken = first.NextPageToken } });
        Assert.Equal([thursday.ApplicationId], second.Applications.Select(p => p.Application.ApplicationId).ToArray());
        Assert.Empty(second.NextPageToken);

        // Ages on Friday: Monday's is 4 working days old, past the target of 3; Tuesday's is at it.
        var all = first.Applications.Concat(second.Applications).ToList();
        Assert.Equal(new[] { (4, true), (3, false), (1, false) }, all.Select(p => (p.AgeWorkingDays, p.Overdue)).ToArray());
        Assert.All(all, p => Assert.Equal(ReviewSla.AgeOf(p.Application.SubmittedAt.ToDateTimeOffset(), _clock.Now), (p.AgeWorkingDays, p.Overdue)));
        Assert.All(all, p => Assert.Equal(ApplicationStatus.Pending, p.Application.Status));
        Assert.Equal([3, 3], new[] { first.TargetWorkingDays, second.TargetWorkingDays });
        Assert.Equal(3, (await reviewer.ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest())).TargetWorkingDays);
    }

    [Fact]
    public async Task R_ONB_5_pending_requests_come_oldest_first_in_pages_with_their_age_in_working_days_and_leave_once_decided()
    {
        var channel = _onboarding.Channel;
        var accounts = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var account = await Steps.OpenServiceAsync(channel);
            await Steps.VerifyAsync(channel, account);
            accounts.Add(account);
        }
        // Monday, Tuesday, Wednesday (decided at once: issued; rejected), Thursday.
        var monday = await Steps.ApplyMerchantIdAsync(channel, accounts[0]);
        _clock.Now = Monday.AddDays(1);
        var tuesday = await Steps.ApplyMerchantIdAsync(channel, accounts[1]);
        _clock.Now = Monday.AddDays(2);
        var issued = await Steps.ApplyMerchantIdAsync(channel, accounts[2]);
        await Steps.ReviewMerchantIdAsync(channel, issued.ApplicationId, approve: true);
        var rejected = await Steps.ApplyMerchantIdAsync(channel, accounts[3]);
        await Steps.ReviewMerchantIdAsync(channel, rejected.ApplicationId, approve: false, reason: "营业执照与认证主体不符");
        _clock.Now = Monday.AddDays(3);
        var thursday = await Steps.ApplyMerchantIdAsync(channel, accounts[4], key: "thursday");
        Assert.Equal(thursday, await Steps.ApplyMerchantIdAsync(channel, accounts[4], key: "thursday")); // a retry: no second entry
        _clock.Now = Monday.AddDays(4); // Friday
        var reviewer = As(Roles.Reviewer);

        var first = await reviewer.ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest { Page = new PageRequest { PageSize = 2 } });
        Assert.Equal([monday.ApplicationId, tuesday.ApplicationId], first.Requests.Select(r => r.Request.ApplicationId).ToArray());
        Assert.NotEmpty(first.NextPageToken);
        var second = await reviewer.ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest { Page = new PageRequest { PageSize = 2, PageToken = first.NextPageToken } });
        Assert.Equal([thursday.ApplicationId], second.Requests.Select(r => r.Request.ApplicationId).ToArray());
        Assert.Empty(second.NextPageToken);

        // Ages on Friday: Monday's is 4 working days old, past the target of 3; Tuesday's is at it.
        var all = first.Requests.Concat(second.Requests).ToList();
        Assert.Equal(new[] { (4, true), (3, false), (1, false) }, all.Select(r => (r.AgeWorkingDays, r.Overdue)).ToArray());
        Assert.All(all, r => Assert.Equal(ReviewSla.AgeOf(r.Request.SubmittedAt.ToDateTimeOffset(), _clock.Now), (r.AgeWorkingDays, r.Overdue)));
        Assert.All(all, r => Assert.Equal(MerchantIdStatus.Pending, r.Request.Status));
        Assert.Equal(monday, all[0].Request);

        // Decided: out of the queue; the request now names its reviewer.
        var approved = await Steps.ReviewMerchantIdAsync(channel, monday.ApplicationId, approve: true, reviewer: "reviewer-7");
        Assert.Equal("reviewer-7", approved.ReviewerId);
        var after = await reviewer.ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest());
        Assert.Equal([tuesday.ApplicationId, thursday.ApplicationId], after.Requests.Select(r => r.Request.ApplicationId).ToArray());
        Assert.Empty(after.NextPageToken);
    }

    [Fact]
    public async Task Only_reviewers_and_operators_list_the_queue_and_bad_paging_is_INVALID_ARGUMENT_with_the_field()
    {
        await As(Roles.Reviewer).ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest());
        await As(Roles.Operator).ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest());
        foreach (var (role, account) in new[] { (Roles.Console, TestIds.New("acct")), (Roles.Service, null), (Roles.BillingOperator, null) })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => As(role, account).ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest()).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        }
        Assert.Equal(new[] { "page.page_size" }, await RpcAssert.InvalidArgumentAsync(() =>
            As(Roles.Reviewer).ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest { Page = new PageRequest { PageSize = 501 } }).ResponseAsync));
        Assert.Equal(new[] { "page.page_token" }, await RpcAssert.InvalidArgumentAsync(() =>
            As(Roles.Reviewer).ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest { Page = new PageRequest { PageToken = "nope" } }).ResponseAsync));
    }

    /// <summary>A clock the test sets; timers run on real time (the base TimeProvider's).</summary>
    private sealed class MovableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
