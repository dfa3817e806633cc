using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>The TestKit's Redis fixtures (decision 9, docs/architecture.md): real processes, free ports, a clear message when Redis is missing.</summary>
public sealed class RedisServerFixtureTests
{
    [Fact]
    public async Task A_missing_redis_server_binary_fails_with_how_to_install_it()
    {
        var e = await Assert.ThrowsAsync<RedisServerNotFoundException>(
            () => RedisServer.StartAsync("redis-server-that-does-not-exist-" + Guid.NewGuid().ToString("N")[..6], null, []));

        Assert.Contains("redis-server not found", e.Message);
        Assert.Contains("apt-get install -y redis-server", e.Message);
        Assert.Contains("./faceid test", e.Message);
    }

    [Fact]
    public async Task A_server_runs_on_a_free_loopback_port_in_its_own_directory_and_is_gone_after_dispose()
    {
        var server = await RedisServer.StartAsync();
        await using (server)
        {
            Assert.Equal($"127.0.0.1:{server.Port}", server.ConnectionString);
            Assert.True(Directory.Exists(server.Directory));
            using var redis = server.Connect();
            var key = TestIds.New("k");
            await redis.GetDatabase().StringSetAsync(key, "v");
            Assert.Equal("v", await redis.GetDatabase().StringGetAsync(key));
            Assert.Equal("", (await redis.GetServer(server.ConnectionString).ConfigGetAsync("save")).Single().Value);
        }

        Assert.False(server.IsRunning);
        Assert.False(Directory.Exists(server.Directory));
        await Assert.ThrowsAnyAsync<Exception>(() => server.CommandAsync("PING"));
    }

    [Fact]
    public async Task A_killed_server_with_an_fsynced_AOF_restarts_on_the_same_port_with_its_data()
    {
        await using var server = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        var port = server.Port;
        await server.CommandAsync("SET", "survivor", "42");

        await server.KillAsync();

        Assert.False(server.IsRunning);
        await Assert.ThrowsAnyAsync<Exception>(() => server.CommandAsync("PING"));

        await server.RestartAsync();

        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        Assert.Equal("42", await server.CommandAsync("GET", "survivor"));
    }

    [Fact]
    public async Task Without_persistence_a_restart_loses_everything()
    {
        await using var server = await RedisServer.StartAsync();
        await server.CommandAsync("SET", "ephemeral", "1");

        await server.RestartAsync(); // graceful, but --save "" --appendonly no

        Assert.Null(await server.CommandAsync("GET", "ephemeral"));
    }

    [Fact]
    public void Test_ids_are_unique_and_valid_platform_ids()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => TestIds.New("acct")).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^[A-Za-z0-9._:-]{1,128}$", id));
        Assert.Matches("^[a-z][a-z0-9-]{1,62}$", TestIds.AppId("Some_App"));
        Assert.Throws<ArgumentException>(() => TestIds.New("bad prefix"));
    }

    [Fact]
    public async Task Eventually_fails_with_the_reason_at_the_deadline()
    {
        var e = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(
            () => Eventually.AssertAsync(() => false, TimeSpan.FromMilliseconds(30), "the moon should turn green"));
        Assert.Contains("the moon should turn green", e.Message);

        var calls = 0;
        await Eventually.AssertAsync(() => ++calls == 3, TimeSpan.FromSeconds(5), "third time lucky");
        Assert.Equal(3, calls);
    }
}

public sealed class RedisClusterTests
{
    [Fact]
    public async Task A_three_node_cluster_serves_keys_of_every_slot_and_keeps_hash_tagged_keys_together()
    {
        await using var cluster = await RedisCluster.StartAsync();
        Assert.Equal(3, cluster.Nodes.Count);
        Assert.Equal(3, cluster.ConnectionString.Split(',').Length);
        Assert.Contains("cluster_state:ok", await cluster.Nodes[0].CommandAsync("CLUSTER", "INFO"));

        using var redis = cluster.Connect();
        var db = redis.GetDatabase();
        var keys = Enumerable.Range(0, 30).Select(i => (RedisKey)TestIds.New("k" + i)).ToList();
        foreach (var key in keys) await db.StringSetAsync(key, key.ToString());
        foreach (var key in keys) Assert.Equal(key.ToString(), await db.StringGetAsync(key));
        var owners = keys.Select(k => redis.GetServer(db.IdentifyEndpoint(k)!).EndPoint.ToString()).Distinct().Count();
        Assert.True(owners > 1, "30 random keys should land on more than one master");

        // One multi-key command on one account's hash tag works on a cluster (decision 6, docs/architecture.md).
        var tag = "{acct:" + TestIds.New("a") + "}";
        await db.StringSetAsync([new(tag + ":x", "1"), new(tag + ":y", "2")]);
        var result = await db.ScriptEvaluateAsync("return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])", [tag + ":x", tag + ":y"]);
        Assert.Equal("12", (string)result!);
    }
}
