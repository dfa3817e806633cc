using System.Reflection;
using FaceId.Billing.Grpc;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Diagnostics.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Operations.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using FaceId.Metering.Grpc;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.Refund.Grpc;
using FaceId.ServiceDefaults;
using FaceId.ServiceDefaults.Operations;
using FaceId.ServiceDefaults.Security;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using StackExchange.Redis;

namespace FaceId.Security.Tests;

/// <summary>One RPC of the platform: its descriptor, the class that serves it and its declared rule.</summary>
public sealed record Rpc(string Service, MethodDescriptor Method, Type Implementation)
{
    public AllowAttribute? Allow => Implementation.GetMethod(Method.Name, BindingFlags.Public | BindingFlags.Instance)?.GetCustomAttribute<AllowAttribute>();

    public override string ToString() => $"{Service}/{Method.Name}";

    /// <summary>Every RPC of every service, read from the service descriptors, so a new RPC is covered automatically.</summary>
    public static IReadOnlyList<Rpc> All { get; } =
    [
        .. Of("onboarding", OnboardingService.Descriptor, typeof(OnboardingGrpcService)),
        .. Of("packages", PackagesService.Descriptor, typeof(PackagesGrpcService)),
        .. Of("metering", MeteringService.Descriptor, typeof(MeteringGrpcService)),
        .. Of("billing", BillingService.Descriptor, typeof(BillingGrpcService)),
        .. Of("refund", RefundService.Descriptor, typeof(RefundGrpcService)),
        .. Of("metering", DiagnosticsService.Descriptor, typeof(DiagnosticsGrpcService)),
        .. Of("refund", EventOperations.Descriptor, typeof(EventOperationsGrpcService)),
    ];

    private static IEnumerable<Rpc> Of(string service, ServiceDescriptor descriptor, Type implementation) =>
        descriptor.Methods.Select(m => new Rpc(service, m, implementation));

    /// <summary>Calls the RPC with <paramref name="request"/> over <paramref name="channel"/>; returns the status code.</summary>
    public Task<StatusCode> CallAsync(GrpcChannel channel, IMessage request) =>
        InvokeAsync(channel, Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => Method.OutputType.Parser.ParseFrom(bytes)), request);

    /// <summary>Sends raw bytes as the request (malformed input); returns the status code.</summary>
    public Task<StatusCode> CallRawAsync(GrpcChannel channel, byte[] request) =>
        InvokeAsync(channel, Marshallers.Create<byte[]>(b => b, b => b), request);

    private async Task<StatusCode> InvokeAsync<T>(GrpcChannel channel, Marshaller<T> marshaller, T request) where T : class
    {
        var type = Method.IsClientStreaming ? MethodType.ClientStreaming : Method.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary;
        var method = new Method<T, T>(type, Method.Service.FullName, Method.Name, marshaller, marshaller);
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10));
        try
        {
            if (Method.IsClientStreaming)
            {
                using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(method, null, options);
                try
                {
                    await call.RequestStream.WriteAsync(request);
                    await call.RequestStream.CompleteAsync();
                }
                catch (Exception e) when (e is RpcException or InvalidOperationException)
                {
                    // The server may end the call (e.g. UNAUTHENTICATED) before it reads the request: the
                    // write then fails with CANCELLED or "call is complete", and the server's status is
                    // what the response carries.
                }
                await call.ResponseAsync;
            }
            else if (Method.IsServerStreaming)
            {
                // Every message is read: a refusal may come before the first one.
                using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(method, null, options, request);
                while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
            }
            else
            {
                await channel.CreateCallInvoker().AsyncUnaryCall(method, null, options, request);
            }
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    /// <summary>A request whose account fields (any field named *account_id, nested or repeated) all name <paramref name="account"/>.</summary>
    public IMessage RequestFor(string account)
    {
        var message = Method.InputType.Parser.ParseFrom(ByteString.Empty);
        Fill(message, account, depth: 0);
        return message;
    }

    private static void Fill(IMessage message, string account, int depth)
    {
        if (depth > 3) return;
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.FieldType == FieldType.String && !field.IsRepeated && field.Name.EndsWith("account_id", StringComparison.Ordinal))
                field.Accessor.SetValue(message, account);
            else if (field.FieldType == FieldType.Message && field.MessageType.FullName.StartsWith("faceid.", StringComparison.Ordinal))
            {
                var child = field.MessageType.Parser.ParseFrom(ByteString.Empty);
                Fill(child, account, depth + 1);
                if (field.IsRepeated) ((System.Collections.IList)field.Accessor.GetValue(message)).Add(child);
                else field.Accessor.SetValue(message, child);
            }
        }
    }
}

/// <summary>The five services in process on one Redis.</summary>
public sealed class PlatformFixture : RedisFixture, Xunit.IAsyncLifetime
{
    private readonly Dictionary<string, IAsyncDisposable> _hosts = [];
    private readonly Dictionary<string, Func<string, GrpcChannel>> _channels = [];

    public GrpcChannel Channel(string service, string token) => _channels[service](token);

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var config = new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = ConnectionString,
            ["Documents:Directory"] = Path.Combine(Path.GetTempPath(), TestIds.New("docs")),
            ["Notifications:SinkDirectory"] = Path.Combine(Path.GetTempPath(), TestIds.New("sink")),
        };
        Add("onboarding", new InProcessService<OnboardingGrpcService>(config).Start());
        Add("packages", new InProcessService<PackagesGrpcService>(config).Start());
        Add("metering", new InProcessService<MeteringGrpcService>(config).Start());
        Add("billing", new InProcessService<BillingGrpcService>(config).Start());
        Add("refund", new InProcessService<RefundGrpcService>(config).Start());
    }

    private void Add<T>(string name, InProcessService<T> host) where T : class
    {
        _hosts[name] = host;
        _channels[name] = host.ChannelWithToken;
    }

    public new async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values) await host.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Every business key and its value once earlier work has settled (TestKit's <see cref="RedisSnapshot"/>).</summary>
    public Task<Dictionary<string, string>> SnapshotAsync() => RedisSnapshot.TakeAsync(Connection);
}
