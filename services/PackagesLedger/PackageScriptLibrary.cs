using System.Globalization;
using System.Reflection;
using FaceId.Common;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The ledger's Lua library for its own scripts and for the scripts of other services that share
/// the package prefixes in one atomic step (docs/architecture.md, key ownership): <c>lib-package.lua</c>,
/// the package record format and the deduction index. Pass <see cref="Assembly"/> to
/// RedisScript.FromResource so that <c>-- #include lib-package.lua</c> resolves to the owner's one
/// copy, and <see cref="Preamble"/> before the script: the constants the library shares with C#,
/// generated from their one source here (no number is written in both languages).
/// </summary>
public static class PackageScriptLibrary
{
    public static Assembly Assembly => typeof(PackageScriptLibrary).Assembly;

    /// <summary>
    /// <c>PKG_BUCKETS</c> (<see cref="LedgerKeys.PackageBuckets"/>), <c>RID_GENERATION_MS</c>
    /// (<see cref="LedgerKeys.RequestIdGeneration"/>), <c>SHANGHAI_OFFSET_MS</c> (<see cref="ChinaCalendar.Offset"/>)
    /// and <c>DAY_MS</c>.
    /// </summary>
    public static readonly string Preamble = string.Create(CultureInfo.InvariantCulture,
        $"local PKG_BUCKETS, RID_GENERATION_MS, SHANGHAI_OFFSET_MS, DAY_MS = {LedgerKeys.PackageBuckets}, " +
        $"{(long)LedgerKeys.RequestIdGeneration.TotalMilliseconds}, {(long)ChinaCalendar.Offset.TotalMilliseconds}, {(long)TimeSpan.FromDays(1).TotalMilliseconds}\n");
}
