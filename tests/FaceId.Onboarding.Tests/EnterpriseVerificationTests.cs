using FaceId.Contracts.Onboarding.V1;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>R-ONB-4 over gRPC: enterprise verification of main accounts.</summary>
public sealed class EnterpriseVerificationTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private InProcessService<OnboardingGrpcService> _onboarding = null!;

    public Task InitializeAsync()
    {
        _onboarding = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, Hosts.NewSinkDirectory());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _onboarding.DisposeAsync();

    private OnboardingService.OnboardingServiceClient Client => Steps.Client(_onboarding.Channel);

    [Fact]
    public async Task R_ONB_4_a_main_account_with_a_valid_code_is_verified_and_the_account_says_so()
    {
        var account = await Steps.CreateAccountAsync(_onboarding.Channel);
        Assert.False(account.EnterpriseVerified);

        var verification = await Steps.VerifyAsync(_onboarding.Channel, account.AccountId);

        Assert.True(verification.Verified);
        Assert.Equal(account.AccountId, verification.AccountId);
        Assert.Equal(Steps.CreditCode, verification.UnifiedSocialCreditCode);
        Assert.Equal("福州示例科技有限公司", verification.CompanyName);
        Assert.Equal("李雷", verification.LegalRepresentative);
        Assert.NotNull(verification.VerifiedAt);
        Assert.True((await Client.GetAccountAsync(new GetAccountRequest { AccountId = account.AccountId })).EnterpriseVerified);
        Assert.Equal(verification, await Client.GetEnterpriseVerificationAsync(new GetEnterpriseVerificationRequest { AccountId = account.AccountId }));
    }

    [Theory]
    [InlineData("91350100M000100Y4", "exactly 18 characters")]
    [InlineData("91350100M000100Y42", "check character")]
    [InlineData("91350100M000010Y43", "check character")]
    [InlineData("91350100M000100O43", "'O' is not allowed")]
    [InlineData("91350100m000100y43", "must be upper case")]
    public async Task R_ONB_4_a_corrupted_code_is_INVALID_ARGUMENT_on_its_field_and_the_account_stays_unverified(string code, string expected)
    {
        var account = await Steps.CreateAccountAsync(_onboarding.Channel);

        var violations = await RpcAssert.ViolationsAsync(() => Steps.VerifyAsync(_onboarding.Channel, account.AccountId, code));

        var v = Assert.Single(violations);
        Assert.Equal("unified_social_credit_code", v.Field);
        Assert.Contains(expected, v.Description);
        Assert.False((await Client.GetAccountAsync(new GetAccountRequest { AccountId = account.AccountId })).EnterpriseVerified);
        await RpcAssert.NotFoundAsync(() => Client.GetEnterpriseVerificationAsync(new GetEnterpriseVerificationRequest { AccountId = account.AccountId }).ResponseAsync);
    }

    [Fact]
    public async Task R_ONB_4_every_bad_field_is_reported_at_once()
    {
        var violations = await RpcAssert.ViolationsAsync(() => Client.SubmitEnterpriseVerificationAsync(new SubmitEnterpriseVerificationRequest
        {
            IdempotencyKey = "", AccountId = "bad id", CompanyName = "", UnifiedSocialCreditCode = "X", LegalRepresentative = "   ",
        }).ResponseAsync);

        Assert.Equal(
            ["account_id", "company_name", "idempotency_key", "legal_representative", "unified_social_credit_code"],
            violations.Select(v => v.Field).Order().ToArray());
    }

    [Fact]
    public async Task R_ONB_4_a_retry_with_the_same_key_returns_the_first_verification_and_another_enterprise_is_refused()
    {
        var account = await Steps.CreateAccountAsync(_onboarding.Channel);
        var first = await Steps.VerifyAsync(_onboarding.Channel, account.AccountId, key: "ent-retry");

        var retry = await Steps.VerifyAsync(_onboarding.Channel, account.AccountId, key: "ent-retry");
        Assert.Equal(first, retry);

        var reason = await RpcAssert.FailedPreconditionAsync(() => Steps.VerifyAsync(_onboarding.Channel, account.AccountId, Steps.OtherCreditCode));
        Assert.Equal("ENTERPRISE_ALREADY_VERIFIED", reason);
        var stored = await Client.GetEnterpriseVerificationAsync(new GetEnterpriseVerificationRequest { AccountId = account.AccountId });
        Assert.Equal(Steps.CreditCode, stored.UnifiedSocialCreditCode);
    }

    [Fact]
    public async Task R_ONB_4_sub_accounts_are_never_verified_and_unknown_accounts_are_not_found()
    {
        var main = await Steps.CreateAccountAsync(_onboarding.Channel);
        var sub = await Steps.CreateSubAccountAsync(_onboarding.Channel, main.AccountId);

        Assert.Equal("NOT_A_MAIN_ACCOUNT", await RpcAssert.FailedPreconditionAsync(() => Steps.VerifyAsync(_onboarding.Channel, sub.AccountId)));
        await RpcAssert.NotFoundAsync(() => Steps.VerifyAsync(_onboarding.Channel, TestIds.New("acct")));
        Assert.False((await Client.GetAccountAsync(new GetAccountRequest { AccountId = main.AccountId })).EnterpriseVerified);
    }
}
