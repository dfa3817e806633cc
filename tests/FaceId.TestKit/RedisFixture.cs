using StackExchange.Redis;
using Xunit;

namespace FaceId.TestKit;

/// <summary>
/// One real Redis shared by the tests of a class (<c>IClassFixture&lt;RedisFixture&gt;</c>) or
/// of a collection (<c>[CollectionDefinition] ... ICollectionFixture&lt;RedisFixture&gt;</c> in the test
/// assembly). Tests isolate themselves by unique ids (<see cref="TestIds.New"/>), never by FLUSHALL,
/// so they may run in any order.
/// With the environment variable <c>FACEID_TEST_REDIS=cluster</c> the fixture starts a three-master
/// Redis Cluster instead, so the same tests run unchanged against a cluster (fault 5, docs/reliability.md).
/// </summary>
public class RedisFixture : IAsyncLifetime
{
    public const string ModeVariable = "FACEID_TEST_REDIS";

    private RedisServer? _server;
    private RedisCluster? _cluster;
    private IConnectionMultiplexer? _connection;

    public static bool ClusterMode => string.Equals(Environment.GetEnvironmentVariable(ModeVariable), "cluster", StringComparison.OrdinalIgnoreCase);

    /// <summary>The single server (not available in cluster mode).</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException(
        _cluster is null ? "RedisFixture is not initialized yet." : "RedisFixture runs a cluster (FACEID_TEST_REDIS=cluster): there is no single server.");

    public string ConnectionString => _cluster?.ConnectionString ?? Server.ConnectionString;

    /// <summary>A shared multiplexer to this server for test assertions (disposed with the fixture).</summary>
    public IConnectionMultiplexer Connection => _connection ??= _cluster?.Connect() ?? Server.Connect();

    public IDatabase Database => Connection.GetDatabase();

    /// <summary>Extra redis-server arguments for a derived fixture (e.g. AOF on).</summary>
    protected virtual string[] ExtraArgs => [];

    public async Task InitializeAsync()
    {
        if (ClusterMode) _cluster = await RedisCluster.StartAsync();
        else _server = await RedisServer.StartAsync(ExtraArgs);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
