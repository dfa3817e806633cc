using System.ComponentModel.DataAnnotations;

namespace FaceId.Billing.Application;

/// <summary>Configuration section "Billing" (README.md, docs/billing.md).</summary>
public sealed class BillingOptions
{
    public const string Section = "Billing";

    /// <summary>A period is settled by the scheduler this long after it ended (room for late records).</summary>
    [Range(0, 7 * 24 * 60)]
    public int SettlementGraceMinutes { get; set; } = 60;

    /// <summary>
    /// Lease of an account's settlement claim: how long a replica that died while settling (SIGKILL,
    /// crash) keeps the account's settlement from the others.
    /// </summary>
    [Range(1, 3600)]
    public int SettlementClaimLeaseSeconds { get; set; } = 120;

    /// <summary>Arrears unpaid this long suspend the service (R-BIL-4).</summary>
    [Range(1, 24 * 365)]
    public int SuspendAfterHours { get; set; } = 24;

    /// <summary>Runs the scheduler (settlement, suspension, reconciliation) in this process.</summary>
    public bool SchedulerEnabled { get; set; } = true;

    /// <summary>How often the scheduler looks for due work.</summary>
    [Range(1, 3600)]
    public int SchedulerIntervalSeconds { get; set; } = 60;

    /// <summary>How often the periodic reconciliation runs (R-BIL-3).</summary>
    [Range(1, 7 * 24 * 60)]
    public int ReconciliationIntervalMinutes { get; set; } = 60;

    /// <summary>How many complete days back the periodic reconciliation checks (the late window is 7 days).</summary>
    [Range(1, 400)]
    public int ReconciliationDays { get; set; } = 8;

    /// <summary>How long day statistics are kept.</summary>
    [Range(1, 36500)]
    public int StatisticsRetentionDays { get; set; } = 1100;

    public TimeSpan Grace => TimeSpan.FromMinutes(SettlementGraceMinutes);
    public TimeSpan SettlementClaimLease => TimeSpan.FromSeconds(SettlementClaimLeaseSeconds);
    public TimeSpan SuspendAfter => TimeSpan.FromHours(SuspendAfterHours);
    public TimeSpan SchedulerInterval => TimeSpan.FromSeconds(SchedulerIntervalSeconds);
    public TimeSpan ReconciliationInterval => TimeSpan.FromMinutes(ReconciliationIntervalMinutes);
    public TimeSpan StatisticsRetention => TimeSpan.FromDays(StatisticsRetentionDays);
}
