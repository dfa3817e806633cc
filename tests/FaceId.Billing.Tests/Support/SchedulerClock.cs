using FaceId.Billing.Application;
using FaceId.Billing.Grpc;
using FaceId.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace FaceId.Billing.Tests.Support;

/// <summary>Drives Billing's scheduler with the fake clock.</summary>
public static class SchedulerClock
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Moves the clock to <paramref name="to"/> and waits until every Billing scheduler completed a
    /// pass at that time or later. A scheduler caught in the middle of a pass by the jump waits one
    /// interval (1 fake second, see <see cref="Hosts.Config"/>) from the new time, so the clock creeps
    /// on by 100 ms per poll: the pass happens at most ~1.1 s of fake time after <paramref name="to"/>.
    /// </summary>
    public static async Task AdvanceAsync(FakeTimeProvider clock, DateTimeOffset to, params InProcessService<BillingGrpcService>[] hosts)
    {
        if (to > clock.GetUtcNow()) clock.SetUtcNow(to);
        await Eventually.AssertAsync(() =>
        {
            if (hosts.All(h => h.Services.GetRequiredService<BillingScheduler>().LastPassAt >= to)) return true;
            clock.Advance(TimeSpan.FromMilliseconds(100));
            return false;
        }, Timeout, $"every Billing scheduler made a pass at {to:O}");
    }

    /// <summary>For instants set by a pass: at <paramref name="expected"/> or within the ~1 s the clock may have crept on.</summary>
    public static void AssertAbout(DateTimeOffset expected, DateTimeOffset actual) =>
        Assert.InRange(actual, expected, expected + TimeSpan.FromSeconds(2));
}
