using FaceId.Common;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Status = Google.Rpc.Status;

namespace FaceId.ServiceDefaults;

/// <summary>
/// The one place where domain errors become gRPC statuses with google.rpc details, so every
/// service answers bad input the same way and never with INTERNAL; a store that is briefly away
/// (<see cref="StoreFaults"/>) is UNAVAILABLE with retry advice, for unary and streaming calls alike.
/// It is the outermost interceptor, so the caller check's own Redis reads are mapped too. A unary call ends with the
/// status set on its context (<see cref="Refuse{TResponse}"/>) instead of a thrown RpcException:
/// the client sees the same status, message and grpc-status-details-bin trailer, and the server
/// pays no second exception per refused call.
/// </summary>
public sealed class DomainExceptionInterceptor(ILogger<DomainExceptionInterceptor> logger) : Interceptor
{
    public const string ErrorDomain = "faceid.cloud";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (Exception e) when (e is not RpcException) { return Refuse<TResponse>(context, Log(e, context)); }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(requestStream, context); }
        catch (Exception e) when (e is not RpcException) { throw Map(e, context); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception e) when (e is not RpcException) { throw Map(e, context); }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context); }
        catch (Exception e) when (e is not RpcException) { throw Map(e, context); }
    }

    private RpcException Map(Exception e, ServerCallContext context) => Log(e, context).ToRpcException();

    private Status Log(Exception e, ServerCallContext context)
    {
        var status = ToStatus(e);
        if (status.Code == (int)Code.Internal)
            logger.LogError(e, "Unhandled error in {Method}", context.Method);
        else if (status.Code == (int)Code.Unavailable)
            // No stack trace: an outage answers every call this way, and the traces would say nothing more.
            logger.LogWarning("Dependency unavailable in {Method}: {Error}", context.Method, e.GetType().Name + ": " + e.Message);
        return status;
    }

    /// <summary>
    /// Ends a unary call with a refusal returned by the application instead of thrown
    /// (<see cref="Refusable{T}"/>): the same status and details as a thrown domain exception.
    /// </summary>
    public static TResponse Refuse<TResponse>(ServerCallContext context, DomainException refusal) where TResponse : class =>
        Refuse<TResponse>(context, ToStatus(refusal));

    /// <summary>
    /// Ends a unary call with a non-OK status without throwing: grpc-dotnet writes the status and
    /// the trailers set on the context, and a client discards the (empty) message that comes
    /// before a non-OK status. JSON transcoding would rebuild the error from the status alone and
    /// lose its details, so a transcoded call still gets the RpcException.
    /// </summary>
    public static TResponse Refuse<TResponse>(ServerCallContext context, Status status) where TResponse : class
    {
        status = StatusBudget.Fit(status);
        if (!IsNativeGrpc(context)) throw status.ToRpcException();
        context.ResponseTrailers.SetRpcStatus(status);
        context.Status = new Grpc.Core.Status(System.Enum.IsDefined((StatusCode)status.Code) ? (StatusCode)status.Code : StatusCode.Unknown, status.Message);
        return EmptyResponse<TResponse>.Instance;
    }

    private static bool IsNativeGrpc(ServerCallContext context) =>
        context.GetHttpContext().Request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.Ordinal);

    /// <summary>The message written before a non-OK status (one per response type; never read by a client).</summary>
    private static class EmptyResponse<TResponse> where TResponse : class
    {
        public static readonly TResponse Instance = Activator.CreateInstance<TResponse>();
    }

    /// <summary>Maps an exception to a google.rpc.Status within <see cref="StatusBudget"/> (public for tests).</summary>
    public static Status ToStatus(Exception e) => StatusBudget.Fit(StatusOf(e));

    private static Status StatusOf(Exception e) => e switch
    {
        InvalidInputException invalid => Build(Code.InvalidArgument, invalid.Message, new BadRequest
        {
            FieldViolations = { invalid.Violations.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }) },
        }),
        NotFoundException { Reason: { } reason } notFound => Build(Code.NotFound, notFound.Message,
            new ResourceInfo { ResourceType = notFound.ResourceType, ResourceName = notFound.ResourceName },
            new ErrorInfo { Reason = reason, Domain = ErrorDomain }),
        NotFoundException notFound => Build(Code.NotFound, notFound.Message,
            new ResourceInfo { ResourceType = notFound.ResourceType, ResourceName = notFound.ResourceName }),
        PreconditionFailedException failed => Build(Code.FailedPrecondition, failed.Message,
            new PreconditionFailure { Violations = { new PreconditionFailure.Types.Violation { Type = failed.Reason, Subject = failed.Subject, Description = failed.Message } } },
            new ErrorInfo { Reason = failed.Reason, Domain = ErrorDomain }),
        IdempotencyKeyReusedException reused => Build(Code.FailedPrecondition, reused.Message,
            new PreconditionFailure { Violations = { new PreconditionFailure.Types.Violation { Type = IdempotencyKeyReusedException.Reason, Subject = reused.KeyField, Description = reused.Message } } },
            new ErrorInfo { Reason = IdempotencyKeyReusedException.Reason, Domain = ErrorDomain,
                Metadata = { ["key_field"] = reused.KeyField, ["fields"] = string.Join(",", reused.DifferingFields) } }),
        PermissionDeniedException denied => Build(Code.PermissionDenied, denied.Message,
            new ErrorInfo { Reason = "PERMISSION_DENIED", Domain = ErrorDomain }),
        TemporarilyUnavailableException unavailable => Build(Code.Unavailable, unavailable.Message, RetryAdvice()),
        OperationCanceledException => Build(Code.Cancelled, "The call was cancelled."),
        // A streamed message that is not a valid protobuf message of the method's type.
        Google.Protobuf.InvalidProtocolBufferException or IOException { InnerException: Google.Protobuf.InvalidProtocolBufferException } =>
            Build(Code.InvalidArgument, "The request is not a valid protobuf message of the method's type."),
        _ when StoreFaults.TransientCondition(e) is { } condition => StoreUnavailable(condition),
        _ => Build(Code.Internal, "Internal error."),
    };

    /// <summary>ErrorInfo reason of a store that is briefly away (metadata <c>condition</c>: CONNECTION, TIMEOUT, LOADING, TRYAGAIN…).</summary>
    public const string StoreUnavailableReason = "STORE_UNAVAILABLE";

    /// <summary>How long a client should wait before retrying an UNAVAILABLE call (google.rpc.RetryInfo).</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromMilliseconds(500);

    public const string StoreUnavailableMessage =
        "The data store is briefly unavailable; retry after the advised delay with the same idempotency key (request id), which makes the retry safe.";

    /// <summary>
    /// A transient store fault (<see cref="StoreFaults"/>): never INTERNAL. The call may or may not have
    /// landed (a timeout after the script was sent); the caller's idempotency key makes its retry apply it once.
    /// </summary>
    private static Status StoreUnavailable(string condition) => Build(Code.Unavailable, StoreUnavailableMessage,
        RetryAdvice(),
        new ErrorInfo { Reason = StoreUnavailableReason, Domain = ErrorDomain, Metadata = { ["condition"] = condition } });

    private static RetryInfo RetryAdvice() => new() { RetryDelay = Duration.FromTimeSpan(RetryAfter) };

    private static Status Build(Code code, string message, params Google.Protobuf.IMessage[] details)
    {
        var status = new Status { Code = (int)code, Message = message };
        foreach (var d in details) status.Details.Add(Any.Pack(d));
        return status;
    }
}
