using System.ComponentModel.DataAnnotations;

namespace FaceId.Refund.Application;

/// <summary>Configuration section "Refund" (README.md, docs/api.md).</summary>
public sealed class RefundOptions
{
    public const string Section = "Refund";

    /// <summary>
    /// Whether RequestRefund credits an accepted refund before answering (default). When false it
    /// only freezes the package (state approved) and leaves the credit to the completion worker.
    /// </summary>
    public bool CompleteInline { get; set; } = true;

    /// <summary>Whether this process runs the completion worker (crash recovery of approved, uncredited refunds).</summary>
    public bool CompletionWorkerEnabled { get; set; } = true;

    /// <summary>How often the worker looks for due pending refunds.</summary>
    [Range(10, 3_600_000)]
    public int CompletionIntervalMs { get; set; } = 5_000;

    /// <summary>
    /// Age of a pending entry before the worker takes it. The entry is written just before the
    /// freeze script runs; waiting well past a store round trip (and its 5 s timeout) means a
    /// refund that is still missing by then never came to be, so its entry can be dropped.
    /// </summary>
    [Range(0, 3_600_000)]
    public int CompletionGraceMs { get; set; } = 30_000;

    /// <summary>How long a claimed entry stays invisible to other workers; a worker that dies leaves it to be retried after this.</summary>
    [Range(100, 3_600_000)]
    public int CompletionLeaseMs { get; set; } = 60_000;
}
