using FaceId.Common;
using FaceId.Onboarding.Application;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>An answer of submit-application.lua nobody knows is a fault naming it, never "not found"; without a host.</summary>
public sealed class UnknownAnswerTests
{
    [Theory]
    [InlineData("ok")]
    [InlineData("dup")]
    public void Accepted_submissions_pass(string status) => ServiceApplications.ThrowIfRefused(status, "acc-1", "app-1");

    [Fact]
    public void No_account_is_not_found() =>
        Assert.Throws<NotFoundException>(() => ServiceApplications.ThrowIfRefused("no_account", "acc-1", ""));

    [Theory]
    [InlineData("pending")]
    [InlineData("opened")]
    [InlineData("sub_account")]
    public void Refusals_are_failed_preconditions(string status) =>
        Assert.Throws<PreconditionFailedException>(() => ServiceApplications.ThrowIfRefused(status, "acc-1", "app-1"));

    [Fact]
    public void An_unknown_submit_answer_throws_naming_it()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ServiceApplications.ThrowIfRefused("frozen", "acc-1", "app-1"));
        Assert.Contains("submit-application.lua", e.Message);
        Assert.Contains("'frozen'", e.Message);
    }
}
