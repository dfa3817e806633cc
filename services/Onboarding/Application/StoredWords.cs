namespace FaceId.Onboarding.Application;

/// <summary>
/// The state words Onboarding stores in its hashes (docs/redis-keys.md): written by its scripts and
/// its stores, read back here; one source, given to the scripts as preamble constants (<see cref="Lua"/>).
/// </summary>
public static class StoredWords
{
    /// <summary>The service state of a main account (<c>onb:account</c> field <c>state</c>).</summary>
    public const string NotApplied = "not_applied", PendingReview = "pending_review", Opened = "opened", Suspended = "suspended";

    /// <summary>The status of an application or a merchant-id application (field <c>status</c>).</summary>
    public const string Pending = "pending", Approved = "approved", Rejected = "rejected", Issued = "issued";

    /// <summary>A flag that is set (the account's <c>enterprise_verified</c>).</summary>
    public const string FlagOn = "1";

    /// <summary><c>SVC_*</c> (service states), <c>APP_*</c> (application statuses) and <c>FLAG_ON</c> for the scripts.</summary>
    internal static readonly (string Name, object Value)[] Lua =
    [
        ("FLAG_ON", FlagOn),
        ("SVC_NOT_APPLIED", NotApplied), ("SVC_PENDING_REVIEW", PendingReview), ("SVC_OPENED", Opened), ("SVC_SUSPENDED", Suspended),
        ("APP_PENDING", Pending), ("APP_APPROVED", Approved), ("APP_REJECTED", Rejected), ("APP_ISSUED", Issued),
    ];

    /// <summary>A stored service state; "" is a sub-account's hash, which has none.</summary>
    public static ServiceStateKind ToServiceState(string stored, string accountId) => stored switch
    {
        PendingReview => ServiceStateKind.PendingReview,
        Opened => ServiceStateKind.Opened,
        Suspended => ServiceStateKind.Suspended,
        NotApplied or "" => ServiceStateKind.NotApplied,
        var other => throw new InvalidOperationException($"unknown stored service state '{other}' of account {accountId}"),
    };

    /// <summary>Stored application statuses and their states.</summary>
    public static readonly IReadOnlyDictionary<string, ApplicationState> ApplicationStates = new Dictionary<string, ApplicationState>
    {
        [Pending] = ApplicationState.Pending, [Approved] = ApplicationState.Approved, [Rejected] = ApplicationState.Rejected,
    };

    /// <summary>Stored merchant-id application statuses and their states.</summary>
    public static readonly IReadOnlyDictionary<string, MerchantIdState> MerchantIdStates = new Dictionary<string, MerchantIdState>
    {
        [Pending] = MerchantIdState.Pending, [Issued] = MerchantIdState.Issued, [Rejected] = MerchantIdState.Rejected,
    };

    public static string Of(ApplicationState state) =>
        ApplicationStates.FirstOrDefault(s => s.Value == state).Key ?? throw new InvalidOperationException($"unknown application state '{state}' to store");

    public static string Of(MerchantIdState state) =>
        MerchantIdStates.FirstOrDefault(s => s.Value == state).Key ?? throw new InvalidOperationException($"unknown merchant-id state '{state}' to store");

    public static ApplicationState ToApplicationState(string stored, string applicationId) =>
        ApplicationStates.TryGetValue(stored, out var state) ? state
        : throw new InvalidOperationException($"unknown stored status '{stored}' of application {applicationId}");

    public static MerchantIdState ToMerchantIdState(string stored, string applicationId) =>
        MerchantIdStates.TryGetValue(stored, out var state) ? state
        : throw new InvalidOperationException($"unknown stored status '{stored}' of merchant-id application {applicationId}");
}
