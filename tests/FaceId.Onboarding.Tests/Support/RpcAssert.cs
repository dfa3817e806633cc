using Google.Rpc;
using Grpc.Core;
using Xunit;

namespace FaceId.Onboarding.Tests.Support;

public static class RpcAssert
{
    /// <summary>Awaits a call that must fail with INVALID_ARGUMENT; returns its BadRequest violations (field → description).</summary>
    public static async Task<IReadOnlyList<(string Field, string Description)>> InvalidArgumentAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var badRequest = e.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        return badRequest.FieldViolations.Select(v => (v.Field, v.Description)).ToList();
    }

    /// <summary>Awaits a call that must fail with FAILED_PRECONDITION; returns its ErrorInfo reason.</summary>
    public static async Task<string> FailedPreconditionAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        var info = e.GetRpcStatus()?.GetDetail<ErrorInfo>();
        Assert.NotNull(info);
        Assert.Equal("faceid.cloud", info.Domain);
        return info.Reason;
    }

    public static async Task NotFoundAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }
}
