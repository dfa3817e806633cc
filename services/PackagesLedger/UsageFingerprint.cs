using System.Security.Cryptography;
using System.Text;

namespace FaceId.Packages.Ledger;

/// <summary>
/// What a usage request id is kept with besides its outcome, so that a retry naming another call is refused
/// (IDEMPOTENCY_KEY_REUSED) instead of answered with the original outcome. The label is compared whole (the kept
/// outcome names it, or its package does); the other meaningful fields as short digests, one per field, so a refusal
/// names the field that differs. Thirteen characters after <see cref="Separator"/> keep a kept value within 44
/// characters (the catalog's longest label is 29): Redis's 48-byte string allocation (docs/redis-keys.md, memory per id).
/// <list type="bullet">
/// <item>access mode (protobuf name): 6 bits of SHA-256, 1 character (distinct for every AccessMode: a test checks it);</item>
/// <item>return code: 18 bits, 3 characters;</item>
/// <item>calling account (the sub-account, "" for the main account itself; the main account is the hash's): 18 bits, 3 characters;</item>
/// <item>occurred_at, unix ms modulo 2^24 in 6 hex digits (written by deduct.lua from the record's time, FP_TIME_MOD): exact
/// for any difference but whole multiples of 2^24 ms (4 h 39 min 37.216 s) — never a whole number of seconds within 24 days.</item>
/// </list>
/// A different return code or account goes unnoticed with probability 2^-18 each.
/// </summary>
public static class UsageFingerprint
{
    /// <summary>Between a kept outcome and its fingerprint (FP_SEP in Lua); never in a label or an outcome.</summary>
    public const char Separator = '#';

    /// <summary>Digits of the digests, 6 bits each.</summary>
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>The occurred time is kept modulo this (FP_TIME_MOD in Lua), in <see cref="TimeChars"/> hex digits.</summary>
    public const long TimeModulus = 1L << 24;

    private const int AccessModeChars = 1, ReturnCodeChars = 3, AccountChars = 3, TimeChars = 6;

    /// <summary>The wire names of the fields compared, as a refusal names them (UsageRecord's fields).</summary>
    public const string Label = "label", AccessMode = "access_mode", ReturnCode = "return_code", Account = "account_id", OccurredAt = "occurred_at";

    /// <summary>The part of a record's fingerprint its class shares (deduct.lua's C_FINGERPRINT): all but the time.</summary>
    public static string OfClass(string accessMode, string returnCode, string subAccountId) =>
        string.Concat(Digest(accessMode, AccessModeChars), Digest(returnCode, ReturnCodeChars), Digest(subAccountId, AccountChars));

    /// <summary>A record's whole fingerprint, as deduct.lua keeps it.</summary>
    public static string Of(ChargeRequest r) =>
        OfClass(r.AccessMode, r.ReturnCode, r.SubAccountId) + Time(r.OccurredAt.ToUnixTimeMilliseconds());

    /// <summary>Unix ms modulo <see cref="TimeModulus"/> in 6 lowercase hex digits (deduct.lua: string.format('%06x', …)).</summary>
    public static string Time(long unixMs) => (unixMs % TimeModulus).ToString("x6", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The fields of <paramref name="retry"/> that differ from the kept record's (its label and fingerprint as deduct.lua
    /// answers them). A fingerprint kept before fingerprints existed (empty) compares only the label.
    /// </summary>
    public static IReadOnlyList<string> Differing(ChargeRequest retry, string keptLabel, string keptFingerprint)
    {
        var fields = new List<string>(1);
        if (keptLabel != retry.Label) fields.Add(Label);
        if (keptFingerprint.Length == 0) return fields;
        var mine = Of(retry);
        var at = 0;
        foreach (var (name, length) in Parts)
        {
            if (keptFingerprint.Length < at + length || !mine.AsSpan(at, length).SequenceEqual(keptFingerprint.AsSpan(at, length))) fields.Add(name);
            at += length;
        }
        return fields;
    }

    private static readonly (string Name, int Length)[] Parts =
        [(AccessMode, AccessModeChars), (ReturnCode, ReturnCodeChars), (Account, AccountChars), (OccurredAt, TimeChars)];

    /// <summary>The first 6 × <paramref name="chars"/> bits of the value's SHA-256, in <see cref="Alphabet"/> digits.</summary>
    private static string Digest(string value, int chars)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        var bits = (ulong)hash[0] << 16 | (ulong)hash[1] << 8 | hash[2];
        Span<char> s = stackalloc char[chars];
        for (var k = 0; k < chars; k++, bits >>= 6) s[k] = Alphabet[(int)(bits & 63)];
        return new string(s);
    }
}
