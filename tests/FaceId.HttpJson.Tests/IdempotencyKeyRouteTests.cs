using System.Text.Json.Nodes;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>A reused idempotency key over HTTP/JSON: FAILED_PRECONDITION's 400 problem, reason and metadata readable by a front end.</summary>
[Collection(HttpPlatformCollection.Name)]
public sealed class IdempotencyKeyRouteTests(HttpPlatform platform)
{
    [Fact]
    public async Task R_REF_1_a_refund_key_reused_for_another_package_is_400_IDEMPOTENCY_KEY_REUSED_naming_the_field_and_changes_nothing()
    {
        var account = await platform.AccountAsync();
        var before = await platform.SnapshotAsync();

        var answer = await platform.SendAsync("FaceId.Refund", HttpMethod.Post, $"/v1/accounts/{account.AccountId}/refunds", account.Token,
            new JsonObject { ["idempotencyKey"] = account.RefundKey, ["packageId"] = account.PackageId });

        ProblemAssert.Is(answer, 400, "FAILED_PRECONDITION", null, "a reused refund key");
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", (string?)answer.Json!["reason"]);
        var info = answer.Json["details"]!.AsArray().Single(d => (string?)d!["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")!;
        Assert.Equal(("idempotency_key", "package_id"), ((string?)info["metadata"]!["key_field"], (string?)info["metadata"]!["fields"]));
        Assert.Contains("package_id", (string?)answer.Json["detail"]);
        Assert.Equal(before, await platform.SnapshotAsync());
    }
}
