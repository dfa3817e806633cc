using System.Security.Cryptography;
using System.Text;

namespace FaceId.Common;

/// <summary>
/// The one way a keyed write answers a retry: the meaningful fields of the request that first used the
/// key are compared with the retry's, and any difference is an <see cref="IdempotencyKeyReusedException"/>
/// naming those fields. Where the stored record keeps the fields themselves they are compared directly
/// (<see cref="ThrowIfDiffering"/>); where it does not (the fields may change later, like an account's
/// contacts), a <see cref="Fingerprint"/> is kept with the key and compared (<see cref="ThrowIfReused"/>).
/// </summary>
public static class IdempotentRequest
{
    /// <summary>
    /// A short fingerprint of the request's meaningful fields, one hash per field so a reuse can name
    /// what differs: <c>field=hash;field=hash</c> (12 hex characters of SHA-256 each; no value is kept in clear).
    /// </summary>
    public static string Fingerprint(params (string Field, string Value)[] fields) =>
        string.Join(';', fields.Select(f => f.Field + "=" + Hash(f.Value)));

    /// <summary>Between the id a key stands for and the request's fingerprint, where the key keeps both (<c>id|fingerprint</c>).</summary>
    private const char IdSeparator = '|';

    /// <summary>The value kept under a key that stands for <paramref name="id"/> and the request fingerprinted.</summary>
    public static string Keep(string id, string fingerprint) => id + IdSeparator + fingerprint;

    /// <summary>The id and the fingerprint of a <see cref="Keep"/> value (a value kept before fingerprints were: the id and "").</summary>
    public static (string Id, string Fingerprint) Kept(string value) =>
        value.Split(IdSeparator, 2) is [var id, var fingerprint] ? (id, fingerprint) : (value, "");

    /// <summary>
    /// Throws when <paramref name="current"/> differs from the fingerprint kept with the key. A kept value
    /// that is no fingerprint (a key written before fingerprints were kept) is not compared.
    /// </summary>
    public static void ThrowIfReused(string keyField, string kept, string current)
    {
        if (!kept.Contains('=') || kept == current) return;
        var before = Parse(kept);
        var now = Parse(current);
        var differing = now.Keys.Union(before.Keys)
            .Where(f => before.GetValueOrDefault(f) != now.GetValueOrDefault(f))
            .ToList();
        if (differing.Count > 0) throw new IdempotencyKeyReusedException(keyField, differing);
    }

    /// <summary>Throws when any of the original request's fields differs from the retry's.</summary>
    public static void ThrowIfDiffering(string keyField, params (string Field, object? Original, object? Retry)[] fields)
    {
        var differing = fields.Where(f => !Equals(f.Original, f.Retry)).Select(f => f.Field).ToList();
        if (differing.Count > 0) throw new IdempotencyKeyReusedException(keyField, differing);
    }

    private static Dictionary<string, string> Parse(string fingerprint) =>
        fingerprint.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");

    private static string Hash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..12];
}
