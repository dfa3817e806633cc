using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.Redis;

public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Registers one shared <see cref="IConnectionMultiplexer"/>, validated and connected when the
    /// host starts (so a missing or unreachable Redis stops start-up with a clear message).
    /// </summary>
    public static IServiceCollection AddFaceIdRedis(this IServiceCollection services)
    {
        services.AddOptions<RedisOptions>()
            .BindConfiguration(RedisOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IConnectionMultiplexer>(sp => Connect(sp.GetRequiredService<IOptions<RedisOptions>>().Value));
        services.AddSingleton(sp => sp.GetRequiredService<IConnectionMultiplexer>().GetDatabase());
        // Registered first among hosted services so the connection is proven before anything uses it.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, RedisStartupCheck>());
        return services;
    }

    public static IConnectionMultiplexer Connect(RedisOptions options)
    {
        ConfigurationOptions config;
        try
        {
            config = ConfigurationOptions.Parse(options.ConnectionString);
        }
        catch (Exception e)
        {
            throw new RedisUnavailableException($"Redis:ConnectionString '{options.ConnectionString}' is malformed: {e.Message}", e);
        }
        config.ConnectTimeout = options.ConnectTimeoutMs;
        config.AbortOnConnectFail = true;
        config.ConnectRetry = 1;
        config.ClientName ??= AppDomain.CurrentDomain.FriendlyName;
        try
        {
            return ConnectionMultiplexer.Connect(config);
        }
        catch (RedisConnectionException e)
        {
            throw new RedisUnavailableException(
                $"Redis at '{options.ConnectionString}' is unreachable ({e.FailureType}). Start redis-server or set Redis__ConnectionString.", e);
        }
    }

    private sealed class RedisStartupCheck(IServiceProvider services) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var db = services.GetRequiredService<IDatabase>();
            await db.PingAsync();
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
