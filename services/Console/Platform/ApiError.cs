using Google.Rpc;
using Grpc.Core;

namespace FaceId.Console.Platform;

/// <summary>A service's refusal as the console shows it: status, ErrorInfo reason and message, from the service.</summary>
public sealed record ApiError(StatusCode Status, string? Reason, string Message)
{
    public static ApiError From(RpcException e) =>
        new(e.StatusCode, e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason, Describe(e));

    /// <summary>The message with the BadRequest field violations, if any.</summary>
    public static string Describe(RpcException e)
    {
        var violations = e.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => $"{v.Field}: {v.Description}") ?? [];
        return string.Join("; ", new[] { e.Status.Detail }.Concat(violations));
    }

    public static int HttpStatus(StatusCode status) => status switch
    {
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        StatusCode.InvalidArgument => StatusCodes.Status400BadRequest,
        StatusCode.FailedPrecondition => StatusCodes.Status409Conflict,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status502BadGateway,
    };
}
