using FaceId.Common;
using FaceId.Onboarding.Application;
using FaceId.Redis;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>An answer of submit-application.lua nobody knows is a fault naming it, never "not found"; without a host.</summary>
public sealed class UnknownAnswerTests
{
    [Theory]
    [InlineData(SubmitOutcome.Filed)]
    [InlineData(SubmitOutcome.Duplicate)]
    public void Accepted_submissions_pass(SubmitOutcome outcome) => ServiceApplications.ThrowIfRefused(outcome, "acc-1", "app-1");

    [Fact]
    public void No_account_is_not_found() =>
        Assert.Throws<NotFoundException>(() => ServiceApplications.ThrowIfRefused(SubmitOutcome.NoAccount, "acc-1", ""));

    [Theory]
    [InlineData(SubmitOutcome.Pending)]
    [InlineData(SubmitOutcome.Opened)]
    [InlineData(SubmitOutcome.SubAccount)]
    public void Refusals_are_failed_preconditions(SubmitOutcome outcome) =>
        Assert.Throws<PreconditionFailedException>(() => ServiceApplications.ThrowIfRefused(outcome, "acc-1", "app-1"));

    [Fact]
    public void An_unknown_submit_answer_throws_naming_it()
    {
        var e = Assert.Throws<UnexpectedScriptReplyException>(() => SubmitApplicationScript.Instance.Parse(
            RedisResult.Create([RedisResult.Create((RedisValue)"frozen"), RedisResult.Create((RedisValue)"")])));
        Assert.Equal("submit-application.lua", e.ScriptName);
        Assert.Contains("'frozen'", e.Message);
    }

    [Fact]
    public void An_unknown_package_alert_kind_fails_its_event_naming_it_rather_than_sending_nothing()
    {
        var alert = new FaceId.Contracts.Events.V1.PackageAlert { AccountId = "acc-1", PackageId = "pkg-1", Kind = (FaceId.Contracts.Events.V1.PackageAlertKind)99 };
        Assert.Contains("'99'", Assert.Throws<InvalidOperationException>(() => FaceId.Onboarding.Application.Notifications.Notices.For("evt-1", alert)).Message);
        Assert.Contains("'99'", Assert.Throws<InvalidOperationException>(() => FaceId.Onboarding.Application.Webhooks.WebhookEvents.From(alert).ToList()).Message);
    }
}
