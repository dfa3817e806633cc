using Google.Rpc;
using Grpc.Core;
using Xunit;

namespace FaceId.TestKit;

/// <summary>Assertions on gRPC failures and their google.rpc details, shared by every suite.</summary>
public static class RpcAssert
{
    /// <summary>Awaits a call that must fail with INVALID_ARGUMENT and returns its BadRequest field paths.</summary>
    public static async Task<IReadOnlyList<string>> InvalidArgumentAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var badRequest = e.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        return badRequest.FieldViolations.Select(v => v.Field).ToList();
    }

    /// <summary>Awaits a call that must fail with INVALID_ARGUMENT and returns its field violations.</summary>
    public static async Task<IReadOnlyList<(string Field, string Description)>> ViolationsAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var badRequest = e.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        return badRequest.FieldViolations.Select(v => (v.Field, v.Description)).ToList();
    }

    /// <summary>Awaits a call that must fail with FAILED_PRECONDITION and returns its ErrorInfo reason.</summary>
    public static async Task<string> FailedPreconditionAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        var info = e.GetRpcStatus()?.GetDetail<ErrorInfo>();
        Assert.NotNull(info);
        return info.Reason;
    }

    /// <summary>
    /// Awaits a call that must fail because its idempotency key stands for another request: FAILED_PRECONDITION,
    /// ErrorInfo IDEMPOTENCY_KEY_REUSED, PreconditionFailure on the key field. Returns the key field and the differing fields.
    /// </summary>
    public static async Task<(string KeyField, string Fields)> KeyReusedAsync(Func<Task> call) =>
        KeyReused(await Assert.ThrowsAsync<RpcException>(call));

    /// <summary>The key field and differing fields of a failure that must be IDEMPOTENCY_KEY_REUSED (see <see cref="KeyReusedAsync"/>).</summary>
    public static (string KeyField, string Fields) KeyReused(Exception failure)
    {
        var e = Assert.IsType<RpcException>(failure);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        var status = e.GetRpcStatus();
        var info = status?.GetDetail<ErrorInfo>();
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", info?.Reason);
        var keyField = info!.Metadata["key_field"];
        Assert.Equal(keyField, Assert.Single(status!.GetDetail<PreconditionFailure>()!.Violations).Subject);
        return (keyField, info.Metadata["fields"]);
    }

    /// <summary>
    /// Awaits a call that must fail with UNAVAILABLE because the store is briefly away: RetryInfo and
    /// ErrorInfo STORE_UNAVAILABLE are attached; returns the condition (CONNECTION, TIMEOUT, LOADING…).
    /// </summary>
    public static async Task<string> StoreUnavailableAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(e.StatusCode == StatusCode.Unavailable, $"expected UNAVAILABLE, got {e.StatusCode}: {e.Status.Detail}");
        var status = e.GetRpcStatus();
        Assert.NotNull(status?.GetDetail<RetryInfo>());
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal("STORE_UNAVAILABLE", info?.Reason);
        return info!.Metadata["condition"];
    }

    public static async Task NotFoundAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }
}
