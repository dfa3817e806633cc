namespace FaceId.Auth;

/// <summary>
/// Who may call what (docs/api.md, "Authentication"). A token carries one or more roles in the <c>role</c> claim;
/// account-bound roles also carry the account in the <c>acct</c> claim.
/// </summary>
public static class Roles
{
    /// <summary>The verification gateway: records usage for any account (scope metering:write).</summary>
    public const string Gateway = "gateway";
    /// <summary>A console or front end acting for one main account (and its sub-accounts).</summary>
    public const string Console = "console";
    /// <summary>A sub-account caller: its own usage only, never bills or refunds.</summary>
    public const string SubAccount = "subaccount";
    /// <summary>Reviews applications and merchant-id requests.</summary>
    public const string Reviewer = "reviewer";
    /// <summary>Runs settlements and top-ups.</summary>
    public const string BillingOperator = "billing-operator";
    /// <summary>Another FaceId service (internal calls).</summary>
    public const string Service = "service";

    public static readonly IReadOnlyList<string> All = [Gateway, Console, SubAccount, Reviewer, BillingOperator, Service];

    /// <summary>Roles whose tokens are bound to one account (the <c>acct</c> claim).</summary>
    public static bool IsAccountBound(string role) => role is Console or SubAccount;
}

public static class ClaimNames
{
    public const string Role = "role";
    public const string Account = "acct";
    public const string Subject = "sub";
}
