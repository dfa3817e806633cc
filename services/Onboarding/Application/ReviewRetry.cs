using FaceId.Common;

namespace FaceId.Onboarding.Application;

/// <summary>
/// How a review of an already decided application is told apart: under the key that decided it, it is
/// a retry and must repeat the decision, reason and reviewer (else IDEMPOTENCY_KEY_REUSED, naming what
/// differs); under another key it is another reviewer's request (the same decision again is a no-op,
/// the other one is refused by the caller as already reviewed).
/// </summary>
public static class ReviewRetry
{
    public sealed record Review(string Key, bool Approve, string Reason, string Reviewer);

    /// <param name="decided">The review kept with the decided application (its key "" when decided before keys were kept).</param>
    /// <param name="retry">The review just asked for.</param>
    public static void ThrowIfKeyReused(Review decided, Review retry)
    {
        if (decided.Key != retry.Key) return;
        IdempotentRequest.ThrowIfDiffering("idempotency_key",
            ("decision", decided.Approve, retry.Approve), ("reason", decided.Reason, retry.Reason), ("reviewer_id", decided.Reviewer, retry.Reviewer));
    }
}
