namespace FaceId.ServiceDefaults.Security;

/// <summary>
/// Declares, on a gRPC method, which caller roles may call it and — for account-bound roles
/// (console, sub-account) — which request field names the account the call touches. Enforced
/// in one place by <see cref="AuthorizationInterceptor"/>; a method without it is denied to everyone.
/// The operator role (platform staff) is allowed on every declared method.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class AllowAttribute(params string[] roles) : Attribute
{
    public IReadOnlyList<string> Roles { get; } = roles.Contains(Auth.Roles.Operator) ? roles : [.. roles, Auth.Roles.Operator];

    /// <summary>
    /// Proto field path of the account the call touches ("account_id", "record.account_id",
    /// "form.account_id", "records[].account_id"); an account-bound caller must own it.
    /// </summary>
    public string? AccountField { get; init; }

    /// <summary>For a sub-account caller: the account must be the caller itself (its own usage), never its main account.</summary>
    public bool SubAccountSelfOnly { get; init; } = true;
}

/// <summary>Methods open to anyone, authenticated or not (health only).</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class AnonymousAttribute : Attribute;
