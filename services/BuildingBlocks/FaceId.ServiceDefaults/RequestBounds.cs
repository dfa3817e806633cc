using System.Collections;
using System.Collections.Concurrent;
using FaceId.Common;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace FaceId.ServiceDefaults;

/// <summary>
/// Every string field of a request message — nested, repeated and map fields included — against its
/// <see cref="FieldLimits"/>, driven by the message's descriptor (one plan per message type, built once).
/// </summary>
public static class RequestBounds
{
    /// <summary>Over-long fields reported per request; a client learns the first ones and the error stays small.</summary>
    public const int MaxReported = 20;

    private static readonly ConcurrentDictionary<MessageDescriptor, Plan> Plans = new();

    /// <summary>The over-long fields of <paramref name="message"/> as a refusal, or null when every string is within its limit.</summary>
    public static InvalidInputException? Check(IMessage? message)
    {
        if (message is null) return null;
        List<FieldViolation>? violations = null;
        Walk(message, "", ref violations, depth: 0);
        return violations is null ? null : new InvalidInputException(violations);
    }

    private static void Walk(IMessage message, string prefix, ref List<FieldViolation>? violations, int depth)
    {
        var plan = PlanOf(message.Descriptor);
        foreach (var (field, limit) in plan.Strings)
        {
            var value = field.Accessor.GetValue(message);
            if (value is string s)
            {
                if (s.Length > limit) Report(ref violations, prefix + field.Name, limit);
            }
            else if (value is IList list)
            {
                for (var i = 0; i < list.Count; i++)
                    if (list[i] is string item && item.Length > limit) Report(ref violations, $"{prefix}{field.Name}[{i}]", limit);
            }
            else if (value is IDictionary map)
            {
                CheckMap(field, map, limit, prefix, ref violations, depth);
            }
            if (violations?.Count >= MaxReported) return;
        }
        if (depth >= 32) return; // a recursive message type nested this deep carries no more checks
        foreach (var field in plan.Messages)
        {
            var value = field.Accessor.GetValue(message);
            if (value is IMessage child) Walk(child, $"{prefix}{field.Name}.", ref violations, depth + 1);
            else if (value is IList list)
            {
                for (var i = 0; i < list.Count && violations?.Count is null or < MaxReported; i++)
                    if (list[i] is IMessage item) Walk(item, $"{prefix}{field.Name}[{i}].", ref violations, depth + 1);
            }
            else if (value is IDictionary map)
            {
                CheckMap(field, map, FieldLimits.For(field.Name), prefix, ref violations, depth);
            }
            if (violations?.Count >= MaxReported) return;
        }
    }

    /// <summary>A map's string keys and values; message values are walked.</summary>
    private static void CheckMap(FieldDescriptor field, IDictionary map, int limit, string prefix, ref List<FieldViolation>? violations, int depth)
    {
        var path = prefix + field.Name;
        foreach (DictionaryEntry entry in map)
        {
            if (entry.Key is string key && key.Length > limit)
            {
                Report(ref violations, path, limit, "keys ");
                continue;
            }
            var at = $"{path}[{CallerInput.Echo(entry.Key?.ToString())}]";
            if (entry.Value is string value && value.Length > limit) Report(ref violations, at, limit);
            else if (entry.Value is IMessage child) Walk(child, at + ".", ref violations, depth + 1);
            if (violations?.Count >= MaxReported) return;
        }
    }

    private static void Report(ref List<FieldViolation>? violations, string field, int limit, string what = "") =>
        (violations ??= []).Add(new FieldViolation(field, $"{what}must be at most {limit} characters"));

    private static Plan PlanOf(MessageDescriptor descriptor) => Plans.GetOrAdd(descriptor, static d =>
    {
        var strings = new List<(FieldDescriptor, int)>();
        var messages = new List<FieldDescriptor>();
        foreach (var field in d.Fields.InDeclarationOrder())
        {
            if (field.IsMap)
            {
                var key = field.MessageType.FindFieldByNumber(1);
                var value = field.MessageType.FindFieldByNumber(2);
                if (value.FieldType == FieldType.Message) messages.Add(field);
                else if (key.FieldType == FieldType.String || value.FieldType == FieldType.String) strings.Add((field, FieldLimits.For(field.Name)));
            }
            else if (field.FieldType == FieldType.String) strings.Add((field, FieldLimits.For(field.Name)));
            // Messages without strings anywhere inside (a Timestamp) are not walked: the hot path pays for strings only.
            else if (field.FieldType == FieldType.Message && HoldsStrings(field.MessageType, [])) messages.Add(field);
        }
        return new Plan([.. strings], [.. messages]);
    });

    private static bool HoldsStrings(MessageDescriptor type, HashSet<MessageDescriptor> seen) =>
        seen.Add(type) && type.Fields.InDeclarationOrder().Any(f =>
            f.FieldType == FieldType.String || f.FieldType == FieldType.Message && HoldsStrings(f.MessageType, seen));

    private sealed record Plan((FieldDescriptor Field, int Limit)[] Strings, FieldDescriptor[] Messages);
}

/// <summary>
/// The first check of every gRPC call (and of every transcoded HTTP/JSON call), before authentication,
/// authorization, validation or any use of the request: a string field over its <see cref="FieldLimits"/>
/// is INVALID_ARGUMENT with a google.rpc.BadRequest naming the field and the limit. A client stream's
/// messages are checked one by one as the handler reads them (the call's token is checked when it opens,
/// before the first message is read).
/// </summary>
public sealed class RequestBoundsInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        RequestBounds.Check(request as IMessage) is { } refusal
            ? Task.FromResult(DomainExceptionInterceptor.Refuse<TResponse>(context, refusal))
            : continuation(request, context);

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        RequestBounds.Check(request as IMessage) is { } refusal
            ? throw DomainExceptionInterceptor.ToStatus(refusal).ToRpcException()
            : continuation(request, responseStream, context);

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new BoundedReader<TRequest>(requestStream), context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new BoundedReader<TRequest>(requestStream), responseStream, context);

    private sealed class BoundedReader<T>(IAsyncStreamReader<T> inner) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken)) return false;
            if (RequestBounds.Check(inner.Current as IMessage) is { } refusal) throw DomainExceptionInterceptor.ToStatus(refusal).ToRpcException();
            return true;
        }
    }
}
