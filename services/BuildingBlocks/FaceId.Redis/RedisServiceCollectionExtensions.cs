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
            .Validate(o => o.ReplicaAcks == 0 || o.ReplicaAckTimeoutMs < o.OperationTimeoutMs,
                "Redis:ReplicaAckTimeoutMs must be below Redis:OperationTimeoutMs (the WAIT for the replicas is one command)")
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
        ApplyFailFast(config, options);
        config.ClientName ??= AppDomain.CurrentDomain.FriendlyName;
        if (options.ReadOnThreadPool) config.SocketManager = SocketManager.ThreadPool;
        IConnectionMultiplexer connection;
        try
        {
            connection = ConnectionMultiplexer.Connect(config);
        }
        catch (RedisConnectionException e)
        {
            throw Unreachable(options, e.FailureType.ToString(), e);
        }
        // The replicas' confirmations (WAIT blocks the connection it is sent on) go over a second connection of their own.
        ReplicaAcknowledgement.Require(connection, options.ReplicaAcks, options.ReplicaAckTimeoutMs, () =>
        {
            var waits = config.Clone();
            waits.ClientName = config.ClientName + "-replica-acks";
            return ConnectionMultiplexer.Connect(waits);
        });
        if (connection.IsConnected) return connection;
        // Start-up still needs Redis now: a clear message and exit code 2, not a host that never serves.
        var status = connection.GetStatus();
        connection.Dispose();
        throw Unreachable(options, "no connection within " + options.ConnectTimeoutMs + " ms", new RedisConnectionException(ConnectionFailureType.UnableToConnect, status));
    }

    /// <summary>
    /// The connection's behaviour when Redis is briefly away (docs/reliability.md): commands fail at once
    /// while there is no connection instead of queueing (the caller gets UNAVAILABLE and retries with its
    /// idempotency key), a stalled Redis fails a command after <see cref="RedisOptions.OperationTimeoutMs"/>,
    /// and a lost connection is retried in the background every <see cref="RedisOptions.ReconnectIntervalMs"/>
    /// (checked on the 1-s heartbeat), never given up (abortConnect=false).
    /// </summary>
    private static void ApplyFailFast(ConfigurationOptions config, RedisOptions options)
    {
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = options.ConnectTimeoutMs;
        config.ConnectRetry = 1;
        config.SyncTimeout = options.OperationTimeoutMs;
        config.AsyncTimeout = options.OperationTimeoutMs;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy = new LinearRetry(options.ReconnectIntervalMs);
    }

    private static RedisUnavailableException Unreachable(RedisOptions options, string why, Exception inner) =>
        new($"Redis at '{options.ConnectionString}' is unreachable ({why}). Start redis-server or set Redis__ConnectionString.", inner);

    private sealed class RedisStartupCheck(IServiceProvider services) : IHostedService
    {
        private IConnectionMultiplexer? _connection;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            _connection = services.GetRequiredService<IConnectionMultiplexer>();
            await _connection.GetDatabase().PingAsync();
        }

        /// <summary>Stopped last (registered first): closes the replicas' confirmation connection, if any.</summary>
        public Task StopAsync(CancellationToken cancellationToken)
        {
            if (_connection is not null) ReplicaAcknowledgement.Release(_connection);
            return Task.CompletedTask;
        }
    }
}
