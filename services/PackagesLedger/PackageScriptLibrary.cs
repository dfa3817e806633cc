using System.Reflection;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The ledger's Lua library for the scripts of other services that share the package prefixes in
/// one atomic step (docs/architecture.md, key ownership): <c>lib-package.lua</c>, the package record
/// format and the deduction index. Pass <see cref="Assembly"/> to RedisScript.FromResource so that
/// <c>-- #include lib-package.lua</c> resolves to the owner's one copy.
/// </summary>
public static class PackageScriptLibrary
{
    public static Assembly Assembly => typeof(PackageScriptLibrary).Assembly;
}
