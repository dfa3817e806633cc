using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>
/// A Lua script shipped as an embedded resource (<c>*.lua</c>), run by SHA1 with EVALSHA and
/// loaded on a server only when that server answers NOSCRIPT (after a restart or failover).
/// </summary>
public sealed class RedisScript
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

    /// <summary>Loads <paramref name="resourceName"/> (file name, e.g. "deduct.lua") from the assembly.</summary>
    public static RedisScript FromResource(Assembly assembly, string resourceName)
    {
        var fullName = assembly.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith("." + resourceName, StringComparison.Ordinal) || n == resourceName)
            ?? throw new InvalidOperationException($"Embedded Lua script '{resourceName}' not found in {assembly.GetName().Name}.");
        using var stream = assembly.GetManifestResourceStream(fullName)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new RedisScript(resourceName, reader.ReadToEnd());
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
            return await db.ScriptEvaluateAsync(Text, keys, args);
        }
    }
}
