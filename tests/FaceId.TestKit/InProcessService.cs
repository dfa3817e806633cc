using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FaceId.TestKit;

/// <summary>
/// A service host run in process on a <see cref="TestServer"/> (WebApplicationFactory): real DI,
/// real Redis, real gRPC pipeline (interceptors, health), no sockets. <typeparamref name="TEntryPoint"/>
/// is any type of the service's assembly (e.g. its <c>Program</c>).
/// Configuration overrides (at least <c>Redis:ConnectionString</c>) are given as host settings,
/// which a <c>WebApplication.CreateBuilder(args)</c> program sees before its first line reads
/// configuration, and again as the last configuration source, so they win over appsettings and
/// environment variables. Ports:* are never set here, so ServiceDefaults binds no Kestrel port.
/// </summary>
public sealed class InProcessService<TEntryPoint> : IAsyncDisposable where TEntryPoint : class
{
    private readonly Factory _factory;
    private GrpcChannel? _channel;

    public InProcessService(
        IReadOnlyDictionary<string, string?> configuration,
        Action<IServiceCollection>? configureTestServices = null)
    {
        _factory = new Factory(configuration, configureTestServices);
    }

    /// <summary>Starts the host now (otherwise it starts on first use) and returns it.</summary>
    public InProcessService<TEntryPoint> Start()
    {
        _ = _factory.Server;
        return this;
    }

    /// <summary>A gRPC channel to the in-memory server (HTTP/2 semantics over the TestServer handler).</summary>
    public GrpcChannel Channel => _channel ??= ChannelWithToken(TestAuth.OperatorToken);

    /// <summary>A new channel to the server whose calls carry <paramref name="token"/> (empty: none).</summary>
    public GrpcChannel ChannelWithToken(string token) => GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = new ResponseVersionHandler { InnerHandler = _factory.Server.CreateHandler() },
        MaxReceiveMessageSize = 16 * 1024 * 1024,
    }.WithToken(token));

    /// <summary>The host's root service provider (resolve singletons, IDatabase, IEventBus, ...).</summary>
    public IServiceProvider Services => _factory.Services;

    public TestServer Server => _factory.Server;

    /// <summary>An HTTP client for non-gRPC endpoints (e.g. the Dapr subscription routes).</summary>
    public HttpClient CreateHttpClient() => _factory.CreateClient();

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        await _factory.DisposeAsync();
    }

    private sealed class Factory(IReadOnlyDictionary<string, string?> configuration, Action<IServiceCollection>? configureTestServices)
        : WebApplicationFactory<TEntryPoint>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Auth:SigningKey", TestAuth.SigningKey);
            foreach (var (key, value) in configuration)
                builder.UseSetting(key, value);
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(configuration));
            if (configureTestServices is not null) builder.ConfigureTestServices(configureTestServices);
        }
    }

    /// <summary>TestServer answers with the request's HTTP version only in some versions; gRPC requires HTTP/2.</summary>
    private sealed class ResponseVersionHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            response.Version = request.Version;
            return response;
        }
    }
}
