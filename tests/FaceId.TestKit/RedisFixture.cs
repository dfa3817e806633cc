using StackExchange.Redis;
using Xunit;

namespace FaceId.TestKit;

/// <summary>
/// One real redis-server shared by the tests of a class (<c>IClassFixture&lt;RedisFixture&gt;</c>) or
/// of a collection (<c>[CollectionDefinition] ... ICollectionFixture&lt;RedisFixture&gt;</c> in the test
/// assembly). Tests isolate themselves by unique ids (<see cref="TestIds.New"/>), never by FLUSHALL,
/// so they may run in any order.
/// </summary>
public class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;
    private IConnectionMultiplexer? _connection;

    public RedisServer Server => _server ?? throw new InvalidOperationException("RedisFixture is not initialized yet.");

    public string ConnectionString => Server.ConnectionString;

    /// <summary>A shared multiplexer to this server for test assertions (disposed with the fixture).</summary>
    public IConnectionMultiplexer Connection => _connection ??= Server.Connect();

    public IDatabase Database => Connection.GetDatabase();

    /// <summary>Extra redis-server arguments for a derived fixture (e.g. AOF on).</summary>
    protected virtual string[] ExtraArgs => [];

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync(ExtraArgs);

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }
}
