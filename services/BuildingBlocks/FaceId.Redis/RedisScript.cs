using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>
/// A Lua script shipped as an embedded resource (<c>*.lua</c>), run by SHA1 with EVALSHA and
/// loaded on a server only when that server answers NOSCRIPT (after a restart or failover).
/// </summary>
public sealed class RedisScript : IRedisScript
{
    private readonly byte[] _sha1;

    public RedisScript(string name, string text)
    {
        Name = name;
        Text = text;
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }

    public string Name { get; }
    public string Text { get; }
    public string Sha1Hex => Convert.ToHexStringLower(_sha1);

    /// <summary>
    /// Loads <paramref name="resourceName"/> (file name, e.g. "deduct.lua") from the assembly. A line
    /// <c>-- #include other.lua</c> is replaced by that resource's text, so scripts share Lua
    /// functions without copies (Redis scripts cannot call each other). An include is looked up in
    /// the script's own assembly, then in <paramref name="libraries"/>: the Lua libraries another
    /// owner publishes (e.g. the package records of the Packages ledger, for Refund's freeze).
    /// </summary>
    public static RedisScript FromResource(Assembly assembly, string resourceName, params Assembly[] libraries) =>
        new(resourceName, ReadResource([assembly, .. libraries], resourceName, depth: 0));

    /// <summary>
    /// As above, with <paramref name="preamble"/> (Lua, e.g. <c>local X = 1</c>) put before the
    /// script: constants generated from their one C# source when the script is loaded.
    /// </summary>
    public static RedisScript FromResource(Assembly assembly, string resourceName, string preamble, params Assembly[] libraries) =>
        new(resourceName, preamble + ReadResource([assembly, .. libraries], resourceName, depth: 0));

    private const string IncludeDirective = "-- #include ";

    private static string ReadResource(Assembly[] assemblies, string resourceName, int depth)
    {
        if (depth > 4) throw new InvalidOperationException($"Lua includes nested too deeply at '{resourceName}'.");
        var (assembly, fullName) = assemblies
            .Select(a => (Assembly: a, Name: a.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith("." + resourceName, StringComparison.Ordinal) || n == resourceName)))
            .FirstOrDefault(r => r.Name is not null);
        if (fullName is null)
            throw new InvalidOperationException($"Embedded Lua script '{resourceName}' not found in {string.Join(", ", assemblies.Select(a => a.GetName().Name))}.");
        using var stream = assembly.GetManifestResourceStream(fullName)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = new StringBuilder();
        while (reader.ReadLine() is { } line)
            text.AppendLine(line.StartsWith(IncludeDirective, StringComparison.Ordinal)
                ? ReadResource(assemblies, line[IncludeDirective.Length..].Trim(), depth + 1)
                : line);
        return text.ToString();
    }

    public async Task<RedisResult> RunAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await db.ScriptEvaluateAsync(_sha1, keys, args);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // EVAL loads the script into that server's cache; later calls go back to EVALSHA.
            try
            {
                return await db.ScriptEvaluateAsync(Text, keys, args);
            }
            catch (Exception again) when (CountError(again))
            {
                throw; // never reached: CountError only counts
            }
        }
        catch (Exception e) when (CountError(e))
        {
            throw; // never reached: CountError only counts
        }
    }

    private static readonly System.Diagnostics.Metrics.Meter Meter = new("FaceId.Redis");

    /// <summary>faceid.redis.script.errors: failed script calls by script file and exception type (docs/observability.md).</summary>
    private static readonly System.Diagnostics.Metrics.Counter<long> Errors = Meter.CreateCounter<long>(
        "faceid.redis.script.errors", "{error}", "Lua script calls that failed (script error, timeout, connection), by script and error type.");

    /// <summary>An exception filter that counts and never catches, so the stack trace stays untouched.</summary>
    private bool CountError(Exception e)
    {
        if (e is OperationCanceledException) return false;
        Errors.Add(1, new KeyValuePair<string, object?>("script", Name), new KeyValuePair<string, object?>("error.type", e.GetType().Name));
        // The caller's span (e.g. ledger.charge) shows which script failed and how.
        System.Diagnostics.Activity.Current?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, $"{Name}: {e.GetType().Name}");
        return false;
    }
}
