using System.Diagnostics;
using System.Text;
using FaceId.Common;
using FaceId.Contracts.Diagnostics.V1;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.Security.Tests;

/// <summary>
/// Bounded requests and errors (docs/api.md, "Bounded requests and errors"), against the five services
/// as real processes on real HTTP/2 sockets: every method of every service each process hosts (read
/// from server reflection and the service descriptors) gets an oversize value in every string field of
/// its request, nested and repeated ones included, one field at a time. Each call is INVALID_ARGUMENT
/// naming that field and its limit, its trailers stay within 4 KiB, and the same channel answers a normal
/// call promptly afterwards (trailers past 64 KiB make common clients hang, and the connection with them).
/// </summary>
public sealed class BoundedErrorsTests(LocalPlatform platform, ITestOutputHelper output) : IClassFixture<LocalPlatform>
{
    private const int MaxTrailerBytes = 4096;
    private static readonly int[] Sizes = [100 * 1024, 1024 * 1024];

    /// <summary>Every service a process may host, by full name: the platform's contracts and the standard ones.</summary>
    private static readonly IReadOnlyDictionary<string, ServiceDescriptor> KnownServices = new FileDescriptor[]
    {
        Contracts.Onboarding.V1.OnboardingReflection.Descriptor, Contracts.Packages.V1.PackagesReflection.Descriptor,
        Contracts.Metering.V1.MeteringReflection.Descriptor, Contracts.Billing.V1.BillingReflection.Descriptor,
        Contracts.Refund.V1.RefundReflection.Descriptor, DiagnosticsReflection.Descriptor,
        Contracts.Operations.V1.OperationsReflection.Descriptor,
        Grpc.Health.V1.HealthReflection.Descriptor, ReflectionReflection.Descriptor, Grpc.Reflection.V1.ReflectionReflection.Descriptor,
    }.SelectMany(f => f.Services).ToDictionary(s => s.FullName);

    public static TheoryData<string> Services => [.. LocalPlatform.Projects];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Every_string_field_of_every_method_is_bounded_with_a_small_error_and_the_channel_stays_healthy(string project)
    {
        var process = platform[project];
        using var channel = process.ChannelWithToken(TestAuth.OperatorToken);
        var hosted = await HostedServicesAsync(channel);
        Assert.Contains(hosted, s => s.FullName.StartsWith("faceid.", StringComparison.Ordinal) && s.FullName.EndsWith("Service", StringComparison.Ordinal)
            && s.FullName != DiagnosticsService.Descriptor.FullName);
        var calls = 0;
        var largest = 0;
        var clock = Stopwatch.StartNew();
        foreach (var method in hosted.SelectMany(s => s.Methods))
        {
            foreach (var path in StringPaths(method.InputType, "", depth: 0))
            {
                foreach (var size in Sizes)
                {
                    var request = RequestWith(method.InputType, path, new string('x', size));
                    var e = await CallAsync(channel, method, request);
                    var because = $"{project} {method.FullName} {path} ({size} characters)";
                    Assert.True(e is not null, $"{because}: OK");
                    Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{because}: {e.Status}");
                    var violations = e.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations;
                    Assert.True(violations is not null, $"{because}: no BadRequest");
                    var field = path.Replace("[]", "[0]", StringComparison.Ordinal);
                    var limit = FieldLimits.For(path.Split('.')[^1].Replace("[]", "", StringComparison.Ordinal));
                    Assert.Contains(violations, v => v.Field == field && v.Description == $"must be at most {limit} characters");
                    var trailers = TrailerBytes(e);
                    largest = Math.Max(largest, trailers);
                    Assert.True(trailers <= MaxTrailerBytes, $"{because}: trailers of {trailers} bytes");
                    await AssertHealthyAsync(channel, because);
                    calls++;
                }
            }
        }
        output.WriteLine($"{project}: {calls} oversize calls over {hosted.Count} services in {clock.Elapsed.TotalSeconds:F1} s; largest error trailers {largest} bytes");
        Assert.True(calls > 0);
    }

    [Fact]
    public async Task Without_a_token_an_oversize_field_is_still_INVALID_ARGUMENT_the_bounds_come_first()
    {
        using var channel = platform.Packages.ChannelWithToken("");
        var method = Contracts.Packages.V1.PackagesService.Descriptor.FindMethodByName("PurchasePackage");
        var e = await CallAsync(channel, method, RequestWith(method.InputType, "label", new string('x', 100 * 1024)));
        Assert.Equal(StatusCode.InvalidArgument, e?.StatusCode);
        var within = await CallAsync(channel, method, RequestWith(method.InputType, "label", "basic_authoritative"));
        Assert.Equal(StatusCode.Unauthenticated, within?.StatusCode);
    }

    /// <summary>The services the process lists through server reflection; each must be one we have a descriptor of.</summary>
    private static async Task<IReadOnlyList<ServiceDescriptor>> HostedServicesAsync(GrpcChannel channel)
    {
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(10));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var name in names) Assert.True(KnownServices.ContainsKey(name), $"hosted service {name} has no descriptor in this test");
        return names.Select(n => KnownServices[n]).ToList();
    }

    /// <summary>Paths of every string field: <c>label</c>, <c>record.label</c>, <c>records[].label</c>, <c>message_ids[]</c>.</summary>
    private static IEnumerable<string> StringPaths(MessageDescriptor type, string prefix, int depth)
    {
        foreach (var field in type.Fields.InDeclarationOrder())
        {
            var name = prefix + field.Name + (field.IsRepeated && !field.IsMap ? "[]" : "");
            if (field.FieldType == FieldType.String) yield return name;
            else if (field.FieldType == FieldType.Message && !field.IsMap && depth < 4)
                foreach (var nested in StringPaths(field.MessageType, name + ".", depth + 1))
                    yield return nested;
        }
    }

    /// <summary>A request of <paramref name="type"/> whose only content is <paramref name="value"/> at <paramref name="path"/>.</summary>
    private static IMessage RequestWith(MessageDescriptor type, string path, string value)
    {
        var message = type.Parser.ParseFrom(ByteString.Empty);
        var dot = path.IndexOf('.');
        var head = dot < 0 ? path : path[..dot];
        var rest = dot < 0 ? null : path[(dot + 1)..];
        var field = type.FindFieldByName(head.Replace("[]", "", StringComparison.Ordinal));
        object item = rest is null ? value : RequestWith(field.MessageType, rest, value);
        if (field.IsRepeated) ((System.Collections.IList)field.Accessor.GetValue(message)).Add(item);
        else field.Accessor.SetValue(message, item);
        return message;
    }

    /// <summary>Calls the method with one request message (streaming or not); the RpcException it ends with, null for OK.</summary>
    private static async Task<RpcException?> CallAsync(GrpcChannel channel, MethodDescriptor descriptor, IMessage request)
    {
        var marshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), b => descriptor.OutputType.Parser.ParseFrom(b));
        var requestMarshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), b => descriptor.InputType.Parser.ParseFrom(b));
        var type = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (true, true) => MethodType.DuplexStreaming,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.Unary,
        };
        var method = new Method<IMessage, IMessage>(type, descriptor.Service.FullName, descriptor.Name, requestMarshaller, marshaller);
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20));
        var invoker = channel.CreateCallInvoker();
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(method, null, options, request);
                    break;
                case MethodType.ServerStreaming:
                {
                    using var call = invoker.AsyncServerStreamingCall(method, null, options, request);
                    while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
                    break;
                }
                case MethodType.ClientStreaming:
                {
                    using var call = invoker.AsyncClientStreamingCall(method, null, options);
                    await WriteOneAsync(call.RequestStream, request);
                    await call.ResponseAsync;
                    break;
                }
                default:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(method, null, options);
                    await WriteOneAsync(call.RequestStream, request);
                    while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
                    break;
                }
            }
            return null;
        }
        catch (RpcException e)
        {
            return e;
        }
    }

    private static async Task WriteOneAsync(IClientStreamWriter<IMessage> stream, IMessage request)
    {
        try
        {
            await stream.WriteAsync(request);
            await stream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // The server may end the call before it reads the message; its status is what the response carries.
        }
    }

    /// <summary>
    /// The bytes the error's status and trailers take on the wire (names and values, as the gRPC HTTP/2
    /// protocol carries them): grpc-status, grpc-message percent-encoded, -bin trailers base64, the rest as is.
    /// </summary>
    private static int TrailerBytes(RpcException e)
    {
        var total = "grpc-status".Length + ((int)e.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture).Length
            + "grpc-message".Length + PercentEncodedLength(e.Status.Detail);
        foreach (var entry in e.Trailers)
        {
            if (entry.Key is "grpc-status" or "grpc-message") continue;
            total += entry.Key.Length + (entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes).TrimEnd('=').Length : entry.Value.Length);
        }
        return total;
    }

    /// <summary>grpc-message: printable ASCII but '%' as is, every other UTF-8 byte as %XX.</summary>
    private static int PercentEncodedLength(string text) =>
        Encoding.UTF8.GetBytes(text).Sum(b => b is >= 0x20 and <= 0x7E and not (byte)'%' ? 1 : 3);

    private static async Task AssertHealthyAsync(GrpcChannel channel, string because)
    {
        var clock = Stopwatch.StartNew();
        var reply = await new DiagnosticsService.DiagnosticsServiceClient(channel)
            .PingAsync(new PingRequest { Payload = ByteString.CopyFromUtf8("after") }, deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.True(reply.Payload.ToStringUtf8() == "after", $"after {because}: the same channel's next call did not answer");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"after {because}: the next call took {clock.Elapsed}");
    }
}
