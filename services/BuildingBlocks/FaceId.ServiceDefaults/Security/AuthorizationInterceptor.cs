using FaceId.Auth;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FaceId.ServiceDefaults.Security;

/// <summary>
/// The one place where callers are checked (docs/api.md, "Authentication"): authenticated (else UNAUTHENTICATED), in a
/// role the method's <see cref="AllowAttribute"/> names, and — for account-bound roles — touching
/// only their own account or its sub-accounts (else PERMISSION_DENIED). Fail-closed: a method
/// without a declaration is denied, except health (anonymous) and reflection (any caller).
/// </summary>
public sealed class AuthorizationInterceptor(AccountOwnership ownership, ILogger<AuthorizationInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var rule = Authorize(context);
        if (rule is not null) await CheckAccountsAsync(rule.Value, request as IMessage, context.Method);
        return await continuation(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var rule = Authorize(context);
        if (rule is not null) await CheckAccountsAsync(rule.Value, request as IMessage, context.Method);
        await continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var rule = Authorize(context);
        return continuation(rule is null ? requestStream : new CheckedReader<TRequest>(requestStream, m => CheckAccountsAsync(rule.Value, m as IMessage, context.Method)), context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var rule = Authorize(context);
        return continuation(rule is null ? requestStream : new CheckedReader<TRequest>(requestStream, m => CheckAccountsAsync(rule.Value, m as IMessage, context.Method)), responseStream, context);
    }

    /// <summary>Authentication and role; returns the account rule to apply to the request, if any.</summary>
    private (CallerIdentity Caller, AllowAttribute Allow)? Authorize(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        if (context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)) return null;
        return Authorize(http, context.Method, http.GetEndpoint()?.Metadata.GetMetadata<AllowAttribute>(),
            reflection: context.Method.StartsWith("/grpc.reflection.", StringComparison.Ordinal));
    }

    /// <summary>
    /// The same checks for a hand-written HTTP endpoint that serves a gRPC method's data (e.g. the
    /// raw license route): authentication, the method's <paramref name="allow"/> rule and the
    /// account fields of <paramref name="request"/>. Throws the RpcException a gRPC call would get.
    /// </summary>
    public async Task AuthorizeAsync(HttpContext http, string method, AllowAttribute allow, IMessage request)
    {
        var rule = Authorize(http, method, allow, reflection: false);
        if (rule is not null) await CheckAccountsAsync(rule.Value, request, method);
    }

    private (CallerIdentity Caller, AllowAttribute Allow)? Authorize(HttpContext http, string method, AllowAttribute? allow, bool reflection)
    {
        if (http.User.Identity?.IsAuthenticated != true)
            throw Failure(StatusCode.Unauthenticated, "UNAUTHENTICATED", "A valid bearer token is required.");
        var caller = CallerIdentity.From(http.User);
        if (reflection) return null;
        if (allow is null || !allow.Roles.Any(caller.Roles.Contains))
        {
            logger.LogWarning("Denied {Method} to {Subject}: role not allowed", method, caller.Subject);
            var allowed = allow is null ? "none" : string.Join(", ", allow.Roles);
            throw Failure(StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED",
                $"The caller's role may not call this method; allowed roles: {allowed}.", new() { ["allowed_roles"] = allowed });
        }
        return caller.Unbound(allow.Roles) ? null : (caller, allow);
    }

    private async Task CheckAccountsAsync((CallerIdentity Caller, AllowAttribute Allow) rule, IMessage? request, string method)
    {
        var (caller, allow) = rule;
        if (allow.AccountField is null || request is null) return;
        if (caller.Account is null) throw Denied(method, caller);
        foreach (var target in FieldValues(request, allow.AccountField))
        {
            if (target.Length == 0) continue; // an empty account is bad input, reported by validation
            var ok = caller.Roles.Contains(Roles.Console) ? await ownership.OwnsAsync(caller.Account, target)
                : allow.SubAccountSelfOnly ? target == caller.Account
                : await ownership.OwnsAsync(caller.Account, target);
            if (!ok) throw Denied(method, caller);
        }
    }

    private RpcException Denied(string method, CallerIdentity caller)
    {
        // The other account's id is not logged: only who tried what.
        logger.LogWarning("Denied {Method} to {Subject}: account outside the caller's scope", method, caller.Subject);
        return Failure(StatusCode.PermissionDenied, "ACCOUNT_NOT_IN_SCOPE", "The caller may not act on this account.");
    }

    private static RpcException Failure(StatusCode code, string reason, string message, Dictionary<string, string>? metadata = null)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        var info = new ErrorInfo { Reason = reason, Domain = DomainExceptionInterceptor.ErrorDomain };
        if (metadata is not null) info.Metadata.Add(metadata);
        status.Details.Add(Any.Pack(info));
        return status.ToRpcException();
    }

    /// <summary>Values of a field path such as "account_id", "record.account_id" or "records[].account_id".</summary>
    public static IEnumerable<string> FieldValues(IMessage message, string path)
    {
        var dot = path.IndexOf('.');
        var head = dot < 0 ? path : path[..dot];
        var repeated = head.EndsWith("[]", StringComparison.Ordinal);
        var field = message.Descriptor.FindFieldByName(repeated ? head[..^2] : head)
            ?? throw new InvalidOperationException($"{message.Descriptor.FullName} has no field {head}");
        var value = field.Accessor.GetValue(message);
        if (dot < 0)
        {
            if (value is string s) yield return s;
            yield break;
        }
        var rest = path[(dot + 1)..];
        var children = repeated ? ((System.Collections.IEnumerable)value).Cast<IMessage>() : value is IMessage m ? [m] : [];
        foreach (var child in children)
            foreach (var v in FieldValues(child, rest))
                yield return v;
    }

    /// <summary>Checks every message of a client stream before the handler sees it (e.g. an upload's form).</summary>
    private sealed class CheckedReader<T>(IAsyncStreamReader<T> inner, Func<T, Task> check) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken)) return false;
            await check(inner.Current);
            return true;
        }
    }
}
