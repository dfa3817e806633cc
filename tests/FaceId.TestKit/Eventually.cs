using System.Diagnostics;
using Xunit.Sdk;

namespace FaceId.TestKit;

/// <summary>
/// Waits on conditions with deadlines: the only way tests wait (no fixed sleeps). Polls with a
/// short backoff (1 ms doubling to 50 ms), so a condition that becomes true is seen at once.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls <paramref name="condition"/> until it is true; fails with <paramref name="because"/> at the deadline.</summary>
    public static Task AssertAsync(Func<Task<bool>> condition, TimeSpan timeout, string because) =>
        PollAsync(condition, timeout, () => because);

    public static Task AssertAsync(Func<bool> condition, TimeSpan timeout, string because) =>
        PollAsync(() => Task.FromResult(condition()), timeout, () => because);

    /// <summary>Polls <paramref name="probe"/> until its value satisfies <paramref name="accept"/>, and returns that value.</summary>
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> accept, TimeSpan timeout, string because)
    {
        T last = default!;
        await PollAsync(async () => accept(last = await probe()), timeout, () => $"{because} (last value: {Describe(last)})");
        return last;
    }

    private static async Task PollAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> because)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(1);
        Exception? lastError = null;
        var polls = 0;
        while (true)
        {
            polls++;
            try
            {
                if (await condition()) return;
                lastError = null;
            }
            catch (Exception e)
            {
                lastError = e; // e.g. a server not up yet: keep polling, report it if time runs out
            }
            var remaining = timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                var message = $"Not true after {clock.Elapsed.TotalMilliseconds:F0} ms ({polls} polls): {because()}";
                if (lastError is not null) message += $"{Environment.NewLine}Last error: {lastError}";
                throw new XunitException(message);
            }
            await Task.Delay(delay < remaining ? delay : remaining);
            delay = delay * 2 < MaxBackoff ? delay * 2 : MaxBackoff;
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        string s => s,
        System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Take(20)) + "]",
        _ => value.ToString() ?? "",
    };
}
