using System.Text.RegularExpressions;

namespace FaceId.TestKit;

/// <summary>
/// Unique identifiers, so tests that share one Redis isolate themselves by id instead of FLUSHALL.
/// </summary>
public static partial class TestIds
{
    private static long _counter;

    /// <summary>
    /// <c>prefix-xxxxxxxxxxxx-n</c>: letters, digits and <c>._:-</c> only (a valid platform id,
    /// see FaceId.Common.InputValidator.Id), unique within and across test runs.
    /// </summary>
    public static string New(string prefix)
    {
        if (!IdChars().IsMatch(prefix))
            throw new ArgumentException($"Prefix '{prefix}' may contain only letters, digits and . _ : -", nameof(prefix));
        return $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)] + "-" + Interlocked.Increment(ref _counter);
    }

    /// <summary>A unique app id for the event bus (<c>^[a-z][a-z0-9-]{1,62}$</c>): also a unique consumer group.</summary>
    public static string AppId(string prefix = "test") =>
        New(prefix.ToLowerInvariant()).ToLowerInvariant().Replace('.', '-').Replace('_', '-').Replace(':', '-');

    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex IdChars();
}
