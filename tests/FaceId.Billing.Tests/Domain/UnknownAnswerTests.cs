using FaceId.Billing.Infrastructure;
using Xunit;

namespace FaceId.Billing.Tests.Domain;

/// <summary>An answer of suspend.lua nobody knows is a fault naming it, never "clear"; without a host.</summary>
public sealed class UnknownAnswerTests
{
    [Theory]
    [InlineData("suspended", SuspendStatus.Suspended)]
    [InlineData("later", SuspendStatus.Later)]
    [InlineData("already", SuspendStatus.Already)]
    [InlineData("clear", SuspendStatus.Clear)]
    public void Suspend_answers_keep_their_meaning(string answer, SuspendStatus expected) =>
        Assert.Equal(expected, BillingStore.SuspendStatusOf(answer));

    [Fact]
    public void An_unknown_suspend_answer_throws_naming_it()
    {
        var e = Assert.Throws<InvalidOperationException>(() => BillingStore.SuspendStatusOf("paused"));
        Assert.Contains("suspend.lua", e.Message);
        Assert.Contains("'paused'", e.Message);
    }
}
