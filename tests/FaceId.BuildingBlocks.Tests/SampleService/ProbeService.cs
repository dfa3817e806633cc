using FaceId.Common;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using StackExchange.Redis;
using FaceId.Auth;
using FaceId.ServiceDefaults.Security;

namespace FaceId.SampleService;

/// <summary>
/// The hand-written contract of the probe service (no .proto: it uses well-known types), shared
/// by the server and the tests' client.
/// </summary>
public static class ProbeApi
{
    public const string ServiceName = "faceid.sample.v1.Probe";

    /// <summary>Throws the exception named by the request (invalid, notfound, precondition, denied, unavailable, boom).</summary>
    public static readonly Method<StringValue, Empty> Fail = new(MethodType.Unary, ServiceName, nameof(ProbeService.Fail),
        Marshaller(StringValue.Parser), Marshaller(Empty.Parser));

    /// <summary>Activates the account named by the request: state + ServiceActivated in one MULTI/EXEC with the outbox; returns the event id.</summary>
    public static readonly Method<StringValue, StringValue> Activate = new(MethodType.Unary, ServiceName, nameof(ProbeService.Activate),
        Marshaller(StringValue.Parser), Marshaller(StringValue.Parser));

    public const string SecretDetail = "connection string password=hunter2";

    public static string StateKey(string accountId) => RedisKeys.ForAccount(accountId, "activated");

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser) where T : IMessage<T> =>
        Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom);
}

/// <remarks>
/// Not sealed, methods virtual: grpc-dotnet binds a method to the virtual it finds declared on the
/// service type (as generated base classes have), so a plain public method is not found.
/// </remarks>
[BindServiceMethod(typeof(ProbeService), nameof(BindService))]
public class ProbeService(IDatabase redis, OutboxRelay relay, TimeProvider time)
{
    public static void BindService(ServiceBinderBase binder, ProbeService? service)
    {
        binder.AddMethod(ProbeApi.Fail, service is null ? null : new UnaryServerMethod<StringValue, Empty>(service.Fail));
        binder.AddMethod(ProbeApi.Activate, service is null ? null : new UnaryServerMethod<StringValue, StringValue>(service.Activate));
    }

    [Allow(Roles.Service)]
    public virtual Task<Empty> Fail(StringValue request, ServerCallContext context) => throw (request.Value switch
    {
        "invalid" => new InvalidInputException([new FieldViolation("account_id", "is required"), new FieldViolation("label", "must be at most 64 characters")]),
        "notfound" => new NotFoundException("account", "acct-404"),
        "precondition" => new PreconditionFailedException("SERVICE_NOT_ACTIVATED", "account/acct-1", "The service is not activated."),
        "denied" => new PermissionDeniedException("Sub-account acct-2 may not read acct-3."),
        "unavailable" => new TemporarilyUnavailableException("Try again."),
        _ => (Exception)new InvalidOperationException(ProbeApi.SecretDetail),
    });

    [Allow(Roles.Service)]
    public virtual async Task<StringValue> Activate(StringValue request, ServerCallContext context)
    {
        new InputValidator().Id("value", request.Value).ThrowIfInvalid();
        var tag = RedisKeys.AccountTag(request.Value);
        var entry = OutboxEntry.For(new ServiceActivated { AccountId = request.Value, ActivatedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()) }, time);
        await relay.RegisterAsync(tag);
        var tran = redis.CreateTransaction();
        tran.AddCondition(Condition.KeyNotExists(ProbeApi.StateKey(request.Value)));
        _ = tran.StringSetAsync(ProbeApi.StateKey(request.Value), entry.Id);
        _ = entry.AppendTo(tran, tag);
        if (!await tran.ExecuteAsync())
            throw new PreconditionFailedException("ALREADY_ACTIVATED", "account/" + request.Value, "The account is already activated.");
        relay.Notify(tag);
        return new StringValue { Value = entry.Id };
    }
}
