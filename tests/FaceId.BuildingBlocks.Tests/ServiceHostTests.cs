using FaceId.SampleService;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;
using StackExchange.Redis;
using Xunit;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// A service built on ServiceDefaults (the SampleService), hosted in process and as a real OS
/// process by the TestKit: health, gRPC errors, outbox → bus → its own subscription, crash and restart.
/// </summary>
public sealed class ServiceHostTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private Dictionary<string, string?> Environment() => new()
    {
        ["Redis__ConnectionString"] = redis.ConnectionString,
        ["EventBus__AppId"] = TestIds.AppId("sample"),
        ["EventBus__OutboxSweepIntervalMs"] = "100",
        ["EventBus__ProcessingTimeoutMs"] = "500",
        ["EventBus__RedeliverIntervalMs"] = "100",
        ["EventBus__MaxPollDelayMs"] = "10",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    [Fact]
    public async Task In_process_the_host_is_healthy_and_its_services_resolve()
    {
        await using var service = new InProcessService<SampleServiceEntryPoint>(new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = redis.ConnectionString,
            ["EventBus:AppId"] = TestIds.AppId("inproc"),
        }).Start();

        var health = await new Health.HealthClient(service.Channel).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        var options = service.Services.GetService(typeof(StackExchange.Redis.IConnectionMultiplexer)) as IConnectionMultiplexer;
        Assert.NotNull(options);
        Assert.Contains(redis.ConnectionString, options.Configuration);
    }

    [Fact]
    public async Task In_process_an_activation_goes_through_the_outbox_to_the_services_own_subscription()
    {
        await using var service = new InProcessService<SampleServiceEntryPoint>(new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = redis.ConnectionString,
            ["EventBus:AppId"] = TestIds.AppId("inproc"),
            ["EventBus:MaxPollDelayMs"] = "10",
        });
        var accountId = TestIds.New("acct");

        var eventId = await Activate(service.Channel, accountId);

        await Eventually.AssertAsync(async () => await redis.Database.ListLengthAsync(ActivationRecorder.HandledKey(accountId)) == 1, Timeout,
            "the service should consume its own ServiceActivated");
        Assert.Equal(eventId, (string)(await redis.Database.ListGetByIndexAsync(ActivationRecorder.HandledKey(accountId), 0))!);
        var again = await Assert.ThrowsAsync<RpcException>(() => Activate(service.Channel, accountId));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
    }

    [Fact]
    public async Task As_a_process_it_serves_survives_a_crash_and_stops_gracefully()
    {
        var dll = ServiceProcess.FindServiceDll("FaceId.SampleService");
        await using var process = await ServiceProcess.StartAsync(dll, Environment());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await process.CheckHealthAsync());
        var invalid = await Assert.ThrowsAsync<RpcException>(() =>
            process.Channel.CreateCallInvoker().AsyncUnaryCall(ProbeApi.Fail, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), new StringValue { Value = "invalid" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        var first = TestIds.New("acct");
        await Activate(process.Channel, first);
        await Eventually.AssertAsync(async () => await redis.Database.ListLengthAsync(ActivationRecorder.HandledKey(first)) == 1, Timeout, "handled by the process");

        process.Kill();

        Assert.True(process.HasExited);
        Assert.NotEqual(0, process.ExitCode);
        await Assert.ThrowsAsync<RpcException>(() => process.CheckHealthAsync());

        await process.RestartAsync();

        var second = TestIds.New("acct");
        await Activate(process.Channel, second);
        await Eventually.AssertAsync(async () => await redis.Database.ListLengthAsync(ActivationRecorder.HandledKey(second)) == 1, Timeout, "handled after the restart");
        Assert.Equal(1, await redis.Database.ListLengthAsync(ActivationRecorder.HandledKey(first)));

        await process.StopAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("start FaceId.SampleService", process.Output);
        Assert.True(File.Exists(process.LogFile));
    }

    [Fact]
    public async Task As_a_process_an_unreachable_Redis_stops_start_up_with_a_clear_message()
    {
        var dll = ServiceProcess.FindServiceDll("FaceId.SampleService");
        var environment = Environment();
        var deadRedis = $"127.0.0.1:{FreePort.Next()}";
        environment["Redis__ConnectionString"] = deadRedis;
        environment["Redis__ConnectTimeoutMs"] = "500";

        var e = await Assert.ThrowsAsync<ServiceStartException>(() => ServiceProcess.StartAsync(dll, environment));

        Assert.DoesNotContain("exited with code 0", e.Message);
        Assert.Contains($"Redis at '{deadRedis}' is unreachable", e.Message);
        Assert.Contains("Start redis-server or set Redis__ConnectionString", e.Message);
        Assert.Contains("exited with code 2", e.Message);
        Assert.Contains("cannot start: Redis at", e.Message);
        Assert.DoesNotContain("   at ", e.Message); // no stack trace
    }

    private static async Task<string> Activate(Grpc.Net.Client.GrpcChannel channel, string accountId) =>
        (await channel.CreateCallInvoker().AsyncUnaryCall(ProbeApi.Activate, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)),
            new StringValue { Value = accountId })).Value;
}
