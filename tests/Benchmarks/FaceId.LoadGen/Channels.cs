using System.Net;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.LoadGen;

/// <summary>
/// K independent gRPC channels (each with its own SocketsHttpHandler, so its own HTTP/2
/// connection); caller i uses channel i mod K. EnableMultipleHttp2Connections lets a channel
/// open more connections if the server's stream limit (100 in Kestrel) is ever reached.
/// With several targets (a comma-separated list, e.g. two Metering processes) the K channels are
/// split evenly between them, interleaved: round-robin callers alternate targets, and
/// <see cref="IndexFor"/> with an account routes all of an account's calls to one target.
/// </summary>
public sealed class ChannelPool : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly int _targets;

    public ChannelPool(string addresses, int connections)
    {
        var targets = addresses.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (targets.Length == 0) throw new ArgumentException("--target: no address given");
        _targets = targets.Length;
        var perTarget = Math.Max(1, connections / _targets);
        // Channel c belongs to target c mod T.
        _channels = Enumerable.Range(0, perTarget * _targets).Select(c => Create(targets[c % _targets])).ToArray();
    }

    public int Count => _channels.Length;

    public GrpcChannel For(int channel) => _channels[channel];

    /// <summary>
    /// The channel a caller uses: channel caller mod K, or, with <paramref name="account"/> given, one of
    /// the channels of target account mod T (account affinity: a gateway that sends each account to one
    /// Metering process keeps that account's calls coalescing in one place).
    /// </summary>
    public int IndexFor(int caller, int? account = null)
    {
        if (account is not { } a || _targets == 1) return caller % _channels.Length;
        var perTarget = _channels.Length / _targets;
        return (caller % perTarget) * _targets + a % _targets;
    }

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
