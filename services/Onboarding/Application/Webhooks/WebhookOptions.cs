using System.ComponentModel.DataAnnotations;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>Configuration section "Webhooks" (README.md, docs/webhooks.md).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Runs the delivery worker in this process.</summary>
    public bool WorkerEnabled { get; set; } = true;

    /// <summary>The schedule when none is configured (Standard Webhooks' suggestion): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 27.6 hours.</summary>
    public static readonly IReadOnlyList<long> DefaultRetryDelaysMs = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

    /// <summary>
    /// Waits before each retry (ms): after the first attempt fails the second comes RetryDelaysMs[0]
    /// later, and so on; attempts = entries + 1. Empty: <see cref="DefaultRetryDelaysMs"/> (a configured
    /// array replaces it whole; the binder would append to a non-empty default).
    /// </summary>
    public long[] RetryDelaysMs { get; set; } = [];

    public IReadOnlyList<long> RetrySchedule => RetryDelaysMs.Length > 0 ? RetryDelaysMs : DefaultRetryDelaysMs;

    /// <summary>Each wait is drawn uniformly within ± this fraction (0..0.5), so retries of many deliveries spread out.</summary>
    [Range(0.0, 0.5)]
    public double JitterFraction { get; set; } = 0.2;

    /// <summary>One attempt: connect, send, status and body read together.</summary>
    [Range(100, 60_000)]
    public int AttemptTimeoutMs { get; set; } = 10_000;

    /// <summary>At most this much of a response body is read (the rest is dropped with the connection).</summary>
    [Range(0, 1_048_576)]
    public int MaxResponseBytes { get; set; } = 65_536;

    /// <summary>A claimed delivery is the claimant's this long; after a crash another worker takes it then. Must exceed AttemptTimeoutMs.</summary>
    [Range(1_000, 3_600_000)]
    public int ClaimLeaseMs { get; set; } = 60_000;

    [Range(10, 60_000)]
    public int PollIntervalMs { get; set; } = 500;

    [Range(1, 1_000)]
    public int ClaimBatchSize { get; set; } = 32;

    /// <summary>Failed attempts in a row (any delivery; a success resets) after which the endpoint is disabled and the account told.</summary>
    [Range(1, 100_000)]
    public int DisableAfterConsecutiveFailures { get; set; } = 100;

    /// <summary>How long the previous secret keeps signing after a rotation, unless the request names another grace.</summary>
    [Range(0, 604_800)]
    public int RotationGraceSeconds { get; set; } = 86_400;

    [Range(1, 1_000)]
    public int MaxEndpointsPerAccount { get; set; } = 20;

    /// <summary>Lifetime of a delivery and its attempt log after its creation.</summary>
    [Range(1, 3650)]
    public int DeliveryRetentionDays { get; set; } = 30;

    /// <summary>
    /// Networks (CIDR, e.g. "127.0.0.0/8", "::1/128") whose addresses are allowed although the
    /// rules refuse them (docs/webhooks.md): for the local run and the tests. Empty in production.
    /// </summary>
    public string[] AllowedNetworks { get; set; } = [];

    /// <summary>Resolution of a host name at registration.</summary>
    [Range(100, 30_000)]
    public int ResolveTimeoutMs { get; set; } = 3_000;
}
