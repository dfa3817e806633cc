using FaceId.Contracts.Onboarding.V1;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Google.Protobuf;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>
/// Every keyed write of Onboarding is bound to its request (docs/api.md, Idempotency): the same request again answers the
/// original, another request under the key is FAILED_PRECONDITION IDEMPOTENCY_KEY_REUSED naming the differing fields and
/// changes nothing, and of two different requests racing on one key exactly one wins.
/// </summary>
public sealed class IdempotencyKeyTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private const int Rounds = 20;
    private InProcessService<OnboardingGrpcService> _onboarding = null!;

    public Task InitializeAsync()
    {
        _onboarding = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, Hosts.NewSinkDirectory(), c =>
        {
            Support.Webhooks.FastDelivery(c);
            c["Webhooks:MaxEndpointsPerAccount"] = (2 * Rounds).ToString(); // the race makes one endpoint per round
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _onboarding.DisposeAsync();

    private OnboardingService.OnboardingServiceClient Client => Steps.Client(_onboarding.Channel);

    private static CreateAccountRequest NewAccount(string key, string name = "Test Co.", string email = Steps.Email) => new()
    {
        IdempotencyKey = key, DisplayName = name, Contacts = new Contacts { Email = email, Mobile = Steps.Mobile, Name = "Han Meimei" },
    };

    [Fact]
    public async Task R_ACC_1_CreateAccount_answers_a_retry_with_its_account_and_refuses_the_key_for_other_contacts_even_after_they_changed()
    {
        var key = TestIds.New("acct-key");
        var created = await Client.CreateAccountAsync(NewAccount(key));
        Assert.Equal(created, await Client.CreateAccountAsync(NewAccount(key)));

        Assert.Equal(("idempotency_key", "contacts.email"), await RpcAssert.KeyReusedAsync(() => Client.CreateAccountAsync(NewAccount(key, email: "other@example.com")).ResponseAsync));
        Assert.Equal(("idempotency_key", "display_name,contacts.email"),
            await RpcAssert.KeyReusedAsync(() => Client.CreateAccountAsync(NewAccount(key, "Other Co.", "other@example.com")).ResponseAsync));
        Assert.Equal(created, await Client.GetAccountAsync(new GetAccountRequest { AccountId = created.AccountId }));

        // The key keeps what was asked, not the account's current contacts: a retry of the original request still answers.
        var updated = await Client.UpdateContactsAsync(new UpdateContactsRequest
        {
            AccountId = created.AccountId, Contacts = new Contacts { Email = "new@example.com", Mobile = Steps.Mobile, Name = "Li Lei" },
        });
        Assert.Equal(updated, await Client.CreateAccountAsync(NewAccount(key)));
    }

    [Fact]
    public async Task R_ACC_1_two_different_CreateAccount_requests_racing_on_one_key_make_one_account()
    {
        var keys = Enumerable.Range(0, Rounds).Select(_ => TestIds.New("acct-race")).ToList();
        var race = await KeyRace.RunAsync(Rounds, (round, which) => Client.CreateAccountAsync(NewAccount(keys[round], "Racer " + which)).ResponseAsync);
        for (var round = 0; round < Rounds; round++)
        {
            Assert.Equal(("idempotency_key", "display_name"), KeyRace.Refused(race[round].Refusal));
            var answer = await Client.CreateAccountAsync(NewAccount(keys[round], "Racer " + race[round].Winner));
            Assert.Equal("Racer " + race[round].Winner, answer.DisplayName);
        }
    }

    [Fact]
    public async Task R_ACC_1_CreateSubAccount_is_bound_to_its_display_name_and_racing_requests_make_one_sub_account()
    {
        var main = await Steps.CreateAccountAsync(_onboarding.Channel);
        CreateSubAccountRequest Sub(string key, string name) => new() { IdempotencyKey = key, MainAccountId = main.AccountId, DisplayName = name };
        var key = TestIds.New("sub-key");
        var sub = await Client.CreateSubAccountAsync(Sub(key, "Branch"));
        Assert.Equal(sub, await Client.CreateSubAccountAsync(Sub(key, "Branch")));
        Assert.Equal(("idempotency_key", "display_name"), await RpcAssert.KeyReusedAsync(() => Client.CreateSubAccountAsync(Sub(key, "Other branch")).ResponseAsync));

        var keys = Enumerable.Range(0, Rounds).Select(_ => TestIds.New("sub-race")).ToList();
        var race = await KeyRace.RunAsync(Rounds, (round, which) => Client.CreateSubAccountAsync(Sub(keys[round], "Branch " + which)).ResponseAsync);
        Assert.All(race, r => Assert.Equal(("idempotency_key", "display_name"), KeyRace.Refused(r.Refusal)));
        var subs = (await Client.ListSubAccountsAsync(new ListSubAccountsRequest { MainAccountId = main.AccountId, Page = new() { PageSize = 100 } })).Accounts;
        Assert.Equal(1 + Rounds, subs.Count); // one per key, nothing made by a refused request
    }

    private async Task<FaceId.Contracts.Onboarding.V1.Application> SubmitAsync(string accountId, string key, string scenario)
    {
        using var call = Client.SubmitApplication();
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk
        {
            Form = new ApplicationForm
            {
                IdempotencyKey = key, AccountId = accountId, BusinessScenario = scenario, LicenseFileName = "license.png",
                Contact = new Contacts { Email = Steps.Email, Mobile = Steps.Mobile, Name = "Han Meimei" },
            },
        });
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = ByteString.CopyFrom(Steps.Png) });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    [Fact]
    public async Task R_ONB_1_SubmitApplication_is_bound_to_its_form_and_racing_forms_file_one_application()
    {
        var account = await Steps.CreateAccountAsync(_onboarding.Channel);
        var key = TestIds.New("app-key");
        var filed = await SubmitAsync(account.AccountId, key, "Remote account opening");
        Assert.Equal(filed, await SubmitAsync(account.AccountId, key, "Remote account opening"));
        Assert.Equal(("form.idempotency_key", "form.business_scenario"), await RpcAssert.KeyReusedAsync(() => SubmitAsync(account.AccountId, key, "Another scenario")));
        Assert.Equal([filed], (await Client.ListApplicationsAsync(new ListApplicationsRequest { AccountId = account.AccountId })).Applications);

        var accounts = await Task.WhenAll(Enumerable.Range(0, Rounds).Select(_ => Steps.CreateAccountAsync(_onboarding.Channel)));
        var race = await KeyRace.RunAsync(Rounds, (round, which) => SubmitAsync(accounts[round].AccountId, "race-key", "Scenario " + which));
        for (var round = 0; round < Rounds; round++)
        {
            Assert.Equal(("form.idempotency_key", "form.business_scenario"), KeyRace.Refused(race[round].Refusal));
            var apps = (await Client.ListApplicationsAsync(new ListApplicationsRequest { AccountId = accounts[round].AccountId })).Applications;
            Assert.Equal("Scenario " + race[round].Winner, Assert.Single(apps).BusinessScenario);
        }
    }

    [Fact]
    public async Task R_ONB_4_SubmitEnterpriseVerification_is_bound_to_its_fields_even_after_a_later_submission_updated_them()
    {
        var account = await Steps.CreateAccountAsync(_onboarding.Channel);
        SubmitEnterpriseVerificationRequest Verify(string key, string company) => new()
        {
            IdempotencyKey = key, AccountId = account.AccountId, CompanyName = company, UnifiedSocialCreditCode = Steps.CreditCode, LegalRepresentative = "李雷",
        };
        var key = TestIds.New("ent-key");
        var verified = await Client.SubmitEnterpriseVerificationAsync(Verify(key, "福州示例科技有限公司"));
        Assert.Equal(verified, await Client.SubmitEnterpriseVerificationAsync(Verify(key, "福州示例科技有限公司")));
        Assert.Equal(("idempotency_key", "company_name"), await RpcAssert.KeyReusedAsync(() => Client.SubmitEnterpriseVerificationAsync(Verify(key, "另一家公司")).ResponseAsync));
        Assert.Equal(verified, await Client.GetEnterpriseVerificationAsync(new GetEnterpriseVerificationRequest { AccountId = account.AccountId }));

        var keys = Enumerable.Range(0, Rounds).Select(_ => TestIds.New("ent-race")).ToList();
        var race = await KeyRace.RunAsync(Rounds, (round, which) => Client.SubmitEnterpriseVerificationAsync(Verify(keys[round], $"公司{round}-{which}")).ResponseAsync);
        Assert.All(race, r => Assert.Equal(("idempotency_key", "company_name"), KeyRace.Refused(r.Refusal)));
        var last = await Client.GetEnterpriseVerificationAsync(new GetEnterpriseVerificationRequest { AccountId = account.AccountId });
        Assert.Equal($"公司{Rounds - 1}-{race[^1].Winner}", last.CompanyName); // the refused request of the last round changed nothing
    }

    [Fact]
    public async Task CreateWebhookEndpoint_is_bound_to_url_event_types_and_description_and_racing_requests_make_one_endpoint()
    {
        var account = await Steps.CreateAccountAsync(_onboarding.Channel);
        var console = Support.Webhooks.Console(_onboarding.ChannelWithToken, account.AccountId);
        CreateWebhookEndpointRequest Endpoint(string key, string path, params string[] types) => new()
        {
            IdempotencyKey = key, AccountId = account.AccountId, Url = "http://127.0.0.1:9/" + path, EventTypes = { types },
        };
        var key = TestIds.New("wh-key");
        var created = await console.CreateWebhookEndpointAsync(Endpoint(key, "hooks", "billing.bill_issued", "refund.completed"));
        // The event types are a set: another order is the same request.
        Assert.Equal(created, await console.CreateWebhookEndpointAsync(Endpoint(key, "hooks", "refund.completed", "billing.bill_issued")));
        Assert.Equal(("idempotency_key", "url,event_types"),
            await RpcAssert.KeyReusedAsync(() => console.CreateWebhookEndpointAsync(Endpoint(key, "other", "billing.bill_issued")).ResponseAsync));

        var keys = Enumerable.Range(0, Rounds).Select(_ => TestIds.New("wh-race")).ToList();
        var race = await KeyRace.RunAsync(Rounds, (round, which) => console.CreateWebhookEndpointAsync(Endpoint(keys[round], $"r{which}", "billing.bill_issued")).ResponseAsync);
        Assert.All(race, r => Assert.Equal(("idempotency_key", "url"), KeyRace.Refused(r.Refusal)));
        var endpoints = (await console.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { AccountId = account.AccountId })).Endpoints;
        Assert.Equal(1 + Rounds, endpoints.Count);
    }

    private static ReviewApplicationRequest Review(string key, string applicationId, bool approve, string reason = "", string reviewer = "reviewer-1") => new()
    {
        IdempotencyKey = key, ApplicationId = applicationId, Decision = approve ? ReviewDecision.Approve : ReviewDecision.Reject, Reason = reason, ReviewerId = reviewer,
    };

    [Fact]
    public async Task R_ONB_2_ReviewApplication_keeps_the_deciding_key_so_a_retry_repeats_the_decision_and_another_request_under_it_is_refused()
    {
        var account = await Steps.CreateAccountAsync(_onboarding.Channel);
        var application = await Steps.SubmitAsync(_onboarding.Channel, account.AccountId);
        var key = TestIds.New("review-key");
        var rejected = await Client.ReviewApplicationAsync(Review(key, application.ApplicationId, approve: false, "营业执照不清晰"));
        Assert.Equal(rejected, await Client.ReviewApplicationAsync(Review(key, application.ApplicationId, approve: false, "营业执照不清晰")));

        Assert.Equal(("idempotency_key", "reason"),
            await RpcAssert.KeyReusedAsync(() => Client.ReviewApplicationAsync(Review(key, application.ApplicationId, approve: false, "另一个理由")).ResponseAsync));
        Assert.Equal(("idempotency_key", "decision,reason"),
            await RpcAssert.KeyReusedAsync(() => Client.ReviewApplicationAsync(Review(key, application.ApplicationId, approve: true)).ResponseAsync));
        Assert.Equal(("idempotency_key", "reviewer_id"),
            await RpcAssert.KeyReusedAsync(() => Client.ReviewApplicationAsync(Review(key, application.ApplicationId, approve: false, "营业执照不清晰", "reviewer-2")).ResponseAsync));
        // Under another key the review is another reviewer's: the same decision is a no-op, the other one is already reviewed.
        Assert.Equal(rejected, await Client.ReviewApplicationAsync(Review(TestIds.New("review-key"), application.ApplicationId, approve: false, "again", "reviewer-2")));
        Assert.Equal("APPLICATION_ALREADY_REVIEWED",
            await RpcAssert.FailedPreconditionAsync(() => Client.ReviewApplicationAsync(Review(TestIds.New("review-key"), application.ApplicationId, approve: true)).ResponseAsync));
        Assert.Equal(rejected, await Client.GetApplicationAsync(new GetApplicationRequest { ApplicationId = application.ApplicationId }));
    }

    [Fact]
    public async Task R_ONB_2_two_different_reviews_racing_on_one_key_decide_once_and_the_loser_is_refused()
    {
        var applications = await Task.WhenAll(Enumerable.Range(0, Rounds).Select(async _ =>
            await Steps.SubmitAsync(_onboarding.Channel, (await Steps.CreateAccountAsync(_onboarding.Channel)).AccountId)));
        var race = await KeyRace.RunAsync(Rounds, (round, which) =>
            Client.ReviewApplicationAsync(Review("race-review", applications[round].ApplicationId, approve: which == 0, which == 0 ? "" : "营业执照已过期")).ResponseAsync);
        for (var round = 0; round < Rounds; round++)
        {
            Assert.Equal(("idempotency_key", "decision,reason"), KeyRace.Refused(race[round].Refusal));
            var decided = await Client.GetApplicationAsync(new GetApplicationRequest { ApplicationId = applications[round].ApplicationId });
            Assert.Equal(race[round].Winner == 0 ? ApplicationStatus.Approved : ApplicationStatus.Rejected, decided.Status);
            var account = await Client.GetAccountAsync(new GetAccountRequest { AccountId = applications[round].AccountId });
            Assert.Equal(race[round].Winner == 0 ? ServiceState.Opened : ServiceState.NotApplied, account.ServiceState);
        }
    }

    [Fact]
    public async Task R_ONB_5_ReviewMerchantId_keeps_the_deciding_key_and_racing_reviews_on_it_issue_at_most_once()
    {
        async Task<MerchantIdApplication> PendingAsync()
        {
            var account = await Steps.OpenServiceAsync(_onboarding.Channel);
            await Steps.VerifyAsync(_onboarding.Channel, account);
            return await Steps.ApplyMerchantIdAsync(_onboarding.Channel, account);
        }
        ReviewMerchantIdRequest MerchantReview(string key, string applicationId, bool approve, string reason = "") => new()
        {
            IdempotencyKey = key, ApplicationId = applicationId, Decision = approve ? ReviewDecision.Approve : ReviewDecision.Reject, Reason = reason, ReviewerId = "reviewer-1",
        };
        var pending = await PendingAsync();
        var key = TestIds.New("mid-review-key");
        var issued = await Client.ReviewMerchantIdAsync(MerchantReview(key, pending.ApplicationId, approve: true));
        Assert.Equal(issued, await Client.ReviewMerchantIdAsync(MerchantReview(key, pending.ApplicationId, approve: true)));
        Assert.Equal(("idempotency_key", "decision,reason"),
            await RpcAssert.KeyReusedAsync(() => Client.ReviewMerchantIdAsync(MerchantReview(key, pending.ApplicationId, approve: false, "营业执照已过期")).ResponseAsync));
        Assert.Equal("MERCHANT_ID_ALREADY_REVIEWED", await RpcAssert.FailedPreconditionAsync(() =>
            Client.ReviewMerchantIdAsync(MerchantReview(TestIds.New("mid-review-key"), pending.ApplicationId, approve: false, "营业执照已过期")).ResponseAsync));

        const int rounds = 5; // each round opens, verifies and applies for an account
        var applications = await Task.WhenAll(Enumerable.Range(0, rounds).Select(_ => PendingAsync()));
        var race = await KeyRace.RunAsync(rounds, (round, which) =>
            Client.ReviewMerchantIdAsync(MerchantReview("race-mid-review", applications[round].ApplicationId, approve: which == 0, which == 0 ? "" : "营业执照已过期")).ResponseAsync);
        for (var round = 0; round < rounds; round++)
        {
            Assert.Equal(("idempotency_key", "decision,reason"), KeyRace.Refused(race[round].Refusal));
            var decided = await Client.GetMerchantIdAsync(new GetMerchantIdRequest { AccountId = applications[round].AccountId });
            Assert.Equal(race[round].Winner == 0 ? MerchantIdStatus.Issued : MerchantIdStatus.Rejected, decided.Status);
        }
    }
}
