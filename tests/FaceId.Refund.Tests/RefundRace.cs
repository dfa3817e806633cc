using Xunit;

namespace FaceId.Refund.Tests;

/// <summary>What one side of a race round ended with.</summary>
public sealed record RoundResult(bool RefundAccepted, string RefundId, string RefusalReason, bool CallOnPackage, string CallPackageId, string CallKind, Exception? Error);

/// <summary>
/// Runs rounds of "a refund request and a metering call released at the same instant": two
/// dedicated threads meet at a <see cref="Barrier"/> before each round, then each makes its call
/// (blocking, so no thread-pool scheduling sits between the release and the request).
/// </summary>
public static class RefundRace
{
    public static (Exception? Refund, Exception? Call)[] Run(int rounds, Action<int> refund, Action<int> call, TimeSpan timeout)
    {
        var errors = new (Exception? Refund, Exception? Call)[rounds];
        using var barrier = new Barrier(2);
        var refundThread = new Thread(() => Loop(rounds, barrier, refund, (i, e) => errors[i].Refund = e)) { IsBackground = true, Name = "race-refund" };
        var callThread = new Thread(() => Loop(rounds, barrier, call, (i, e) => errors[i].Call = e)) { IsBackground = true, Name = "race-call" };
        refundThread.Start();
        callThread.Start();
        Assert.True(refundThread.Join(timeout) & callThread.Join(timeout), $"the race did not finish within {timeout}");
        return errors;
    }

    private static void Loop(int rounds, Barrier barrier, Action<int> action, Action<int, Exception> fail)
    {
        for (var i = 0; i < rounds; i++)
        {
            barrier.SignalAndWait();
            try
            {
                action(i);
            }
            catch (Exception e)
            {
                fail(i, e);
            }
        }
    }
}
