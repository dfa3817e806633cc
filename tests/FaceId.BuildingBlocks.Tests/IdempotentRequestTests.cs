using FaceId.Common;
using Xunit;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>The one comparison of a retry with the request that first used its key (docs/api.md, Idempotency).</summary>
public sealed class IdempotentRequestTests
{
    private static string Request(string name, string email) => IdempotentRequest.Fingerprint(("display_name", name), ("contacts.email", email));

    [Fact]
    public void A_fingerprint_keeps_one_short_hash_per_field_and_no_value_in_clear()
    {
        var fingerprint = Request("Test Co.", "ops@example.com");
        Assert.Matches("^display_name=[0-9a-f]{12};contacts.email=[0-9a-f]{12}$", fingerprint);
        Assert.DoesNotContain("example", fingerprint);
        Assert.Equal(fingerprint, Request("Test Co.", "ops@example.com"));
    }

    [Fact]
    public void The_same_request_passes_and_another_names_every_differing_field()
    {
        var kept = Request("Test Co.", "ops@example.com");
        IdempotentRequest.ThrowIfReused("idempotency_key", kept, Request("Test Co.", "ops@example.com"));

        var one = Assert.Throws<IdempotencyKeyReusedException>(() => IdempotentRequest.ThrowIfReused("idempotency_key", kept, Request("Test Co.", "other@example.com")));
        Assert.Equal(("idempotency_key", "contacts.email"), (one.KeyField, string.Join(",", one.DifferingFields)));
        var both = Assert.Throws<IdempotencyKeyReusedException>(() => IdempotentRequest.ThrowIfReused("idempotency_key", kept, Request("Other", "other@example.com")));
        Assert.Equal(["display_name", "contacts.email"], both.DifferingFields.ToArray());
        Assert.StartsWith("idempotency_key was already used for a request with a different display_name, contacts.email;", both.Message);
    }

    [Fact]
    public void A_key_kept_before_fingerprints_were_answers_without_comparing()
    {
        IdempotentRequest.ThrowIfReused("idempotency_key", "", Request("Test Co.", "ops@example.com"));
        IdempotentRequest.ThrowIfReused("idempotency_key", "91350100M000100Y43", Request("Test Co.", "ops@example.com")); // an old value: not a fingerprint
        Assert.Equal(("acc_1", ""), IdempotentRequest.Kept("acc_1"));
        Assert.Equal(("acc_1", "a=1;b=2"), IdempotentRequest.Kept(IdempotentRequest.Keep("acc_1", "a=1;b=2")));
    }

    [Fact]
    public void Stored_fields_are_compared_by_value()
    {
        IdempotentRequest.ThrowIfDiffering("order_id", ("label", "basic_authoritative", "basic_authoritative"), ("size", 1000L, 1000L));
        var e = Assert.Throws<IdempotencyKeyReusedException>(() =>
            IdempotentRequest.ThrowIfDiffering("order_id", ("label", "basic_authoritative", "basic_authoritative"), ("size", 1000L, 10000L)));
        Assert.Equal(("order_id", "size"), (e.KeyField, string.Join(",", e.DifferingFields)));
    }
}
