using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Dapr.Client.Autogen.Grpc.v1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace FaceId.BuildingBlocks.Tests.Support;

/// <summary>
/// Just enough of a Dapr sidecar's gRPC API to receive PublishEvent: Kestrel on a loopback port,
/// HTTP/2 cleartext, one route that unframes the request (1 byte compressed flag, 4 bytes
/// big-endian length, message), records it, and answers an empty message with grpc-status 0.
/// </summary>
public sealed class FakeDaprSidecar : IAsyncDisposable
{
    public const string PublishEventPath = "/dapr.proto.runtime.v1.Dapr/PublishEvent";

    private readonly WebApplication _app;

    private FakeDaprSidecar(WebApplication app) => _app = app;

    public ConcurrentQueue<PublishEventRequest> Published { get; } = new();

    /// <summary>The sidecar's gRPC endpoint, e.g. http://127.0.0.1:PORT.</summary>
    public string GrpcEndpoint => _app.Urls.Single();

    public static async Task<FakeDaprSidecar> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var sidecar = new FakeDaprSidecar(app);
        app.MapPost(PublishEventPath, sidecar.PublishEventAsync);
        await app.StartAsync();
        return sidecar;
    }

    private async Task PublishEventAsync(HttpContext http)
    {
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body);
        var frame = body.ToArray();
        http.Response.ContentType = "application/grpc";
        if (frame.Length < 5 || frame[0] != 0 || BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1, 4)) != frame.Length - 5)
        {
            http.Response.AppendTrailer("grpc-status", ((int)Grpc.Core.StatusCode.InvalidArgument).ToString());
            http.Response.AppendTrailer("grpc-message", "expected one uncompressed gRPC frame");
            return;
        }
        Published.Enqueue(PublishEventRequest.Parser.ParseFrom(frame.AsSpan(5)));
        await http.Response.Body.WriteAsync(new byte[5]); // google.protobuf.Empty: flag 0, length 0
        http.Response.AppendTrailer("grpc-status", "0");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
