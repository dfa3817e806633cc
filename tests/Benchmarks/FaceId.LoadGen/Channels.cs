using System.Net;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.LoadGen;

/// <summary>
/// K independent gRPC channels (each with its own SocketsHttpHandler, so its own HTTP/2
/// connection); caller i uses channel i mod K. EnableMultipleHttp2Connections lets a channel
/// open more connections if the server's stream limit (100 in Kestrel) is ever reached.
/// </summary>
public sealed class ChannelPool : IDisposable
{
    private readonly GrpcChannel[] _channels;

    public ChannelPool(string address, int connections)
    {
        _channels = Enumerable.Range(0, Math.Max(1, connections)).Select(_ => Create(address)).ToArray();
    }

    public int Count => _channels.Length;

    public GrpcChannel For(int caller) => _channels[caller % _channels.Length];

    /// <summary>
    /// The load generator plays the gateway, the console back end and the reviewer: when
    /// Auth__SigningKey is set (run.sh generates one per run, as ./faceid run does) every call
    /// carries a bearer token minted with it, so Ping and the real methods pay the same
    /// authentication cost.
    /// </summary>
    public static readonly string? Token = Environment.GetEnvironmentVariable("Auth__SigningKey") is { Length: > 0 } key
        ? new FaceId.Auth.TokenMinter(key).Mint("faceid-loadgen", [FaceId.Auth.Roles.Gateway, FaceId.Auth.Roles.Service, FaceId.Auth.Roles.Reviewer])
        : null;

    public static GrpcChannel Create(string address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        Credentials = Token is null ? null : ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("Authorization", "Bearer " + Token);
            return Task.CompletedTask;
        })),
        UnsafeUseInsecureChannelCallCredentials = Token is not null, // loopback only
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        },
        MaxReceiveMessageSize = 64 * 1024 * 1024,
        MaxSendMessageSize = 64 * 1024 * 1024,
    });

    /// <summary>Opens every connection before the clock starts.</summary>
    public async Task ConnectAsync()
    {
        foreach (var c in _channels) await c.ConnectAsync();
    }

    public void Dispose()
    {
        foreach (var c in _channels) c.Dispose();
    }
}
