using System.Diagnostics;
using FaceId.SampleService;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;
using Xunit;
using Xunit.Abstractions;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// A store that is briefly away (docs/reliability.md), seen by a client of a service host on ServiceDefaults:
/// a call is answered UNAVAILABLE with retry advice (never INTERNAL, never held until the caller's deadline)
/// and health answers NOT_SERVING within a second, whether Redis is stalled or down; both recover on their
/// own once Redis is back.
/// </summary>
public sealed class StoreOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HealthBound = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_stalled_or_dead_Redis_is_UNAVAILABLE_to_callers_and_NOT_SERVING_to_health_within_a_second_and_both_recover()
    {
        await using var server = await RedisServer.StartAsync();
        await using var service = new InProcessService<SampleServiceEntryPoint>(new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = server.ConnectionString,
            ["Redis:OperationTimeoutMs"] = "1500",
            ["EventBus:AppId"] = TestIds.AppId("outage"),
            ["Logging:LogLevel:Default"] = "Error",
        }).Start();
        await WarmUp(service);
        Assert.Equal(ServingStatus.Serving, (await HealthAsync(service)).Status);

        // Stalled: every client's commands wait 5 s (CLIENT PAUSE answers OK once the pause is in force).
        Assert.Equal("OK", await server.CommandAsync("CLIENT", "PAUSE", "5000", "ALL"));
        var stalled = Stopwatch.StartNew();
        Assert.Equal("TIMEOUT", await RpcAssert.StoreUnavailableAsync(() => Activate(service, TestIds.New("acct"))));
        var stalledAnswer = stalled.Elapsed;
        var stalledHealth = await HealthAsync(service);
        Assert.Equal(ServingStatus.NotServing, stalledHealth.Status);
        Assert.True(stalledHealth.Took < HealthBound, $"health took {stalledHealth.Took.TotalMilliseconds:F0} ms while Redis was stalled");

        // Down: SIGKILL; the lost connection makes calls fail at once instead of queueing.
        await Eventually.AssertAsync(async () => (await HealthAsync(service)).Status == ServingStatus.Serving, TimeSpan.FromSeconds(10), "healthy again after the pause");
        await server.KillAsync();
        var down = Stopwatch.StartNew();
        var condition = await RpcAssert.StoreUnavailableAsync(() => Activate(service, TestIds.New("acct")));
        var downAnswer = down.Elapsed;
        Assert.Contains(condition, new[] { "CONNECTION", "TIMEOUT" });
        var downHealth = await HealthAsync(service);
        Assert.Equal(ServingStatus.NotServing, downHealth.Status);
        Assert.True(downHealth.Took < HealthBound, $"health took {downHealth.Took.TotalMilliseconds:F0} ms while Redis was down");
        // Once the loss is noticed, no command waits for the operation timeout (1.5 s here): it fails at once.
        var refusals = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var noticed = Stopwatch.StartNew();
            Assert.Equal("CONNECTION", await RpcAssert.StoreUnavailableAsync(() => Activate(service, TestIds.New("acct"))));
            refusals.Add(noticed.Elapsed.TotalMilliseconds);
        }
        Assert.True(refusals.Order().ElementAt(2) < 500, $"calls took {string.Join(", ", refusals.Select(ms => ms.ToString("F0")))} ms to be refused while Redis was down");

        // Back: the connection is made again in the background; health and calls recover without a restart.
        await server.RestartAsync();
        var back = Stopwatch.StartNew();
        await Eventually.AssertAsync(async () => (await HealthAsync(service)).Status == ServingStatus.Serving, TimeSpan.FromSeconds(15), "healthy again once Redis is back");
        var recovered = back.Elapsed;
        var afterwards = new List<string>();
        await Eventually.AssertAsync(async () =>
        {
            try
            {
                await Activate(service, TestIds.New("acct"));
                return true;
            }
            catch (RpcException e)
            {
                afterwards.Add($"{e.StatusCode}: {e.Status.Detail}");
                throw;
            }
        }, TimeSpan.FromSeconds(15), "calls succeed again once Redis is back");
        output.WriteLine($"calls refused after health said SERVING: {afterwards.Count} [{string.Join(" | ", afterwards.Distinct())}]");

        output.WriteLine($"stalled: call answered UNAVAILABLE (TIMEOUT) in {stalledAnswer.TotalMilliseconds:F0} ms, health NOT_SERVING in {stalledHealth.Took.TotalMilliseconds:F0} ms; " +
            $"down: first call {condition} in {downAnswer.TotalMilliseconds:F0} ms, next ones in {string.Join("/", refusals.Select(ms => ms.ToString("F0")))} ms, health NOT_SERVING in {downHealth.Took.TotalMilliseconds:F0} ms; " +
            $"SERVING again {recovered.TotalMilliseconds:F0} ms after redis-server answered PING");
    }

    private static async Task<(ServingStatus Status, TimeSpan Took)> HealthAsync(InProcessService<SampleServiceEntryPoint> service)
    {
        var clock = Stopwatch.StartNew();
        var reply = await new Health.HealthClient(service.Channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        return (reply.Status, clock.Elapsed);
    }

    /// <summary>
    /// One call before the outage, so the service is warm. Its answer is not what this test is about: on a loaded machine
    /// a first conditional transaction sometimes answers false for a new key (docs/reliability.md, "Not covered yet"),
    /// which the sample service reports as ALREADY_ACTIVATED; the key is then there, which is all the warm-up needs.
    /// </summary>
    private static async Task WarmUp(InProcessService<SampleServiceEntryPoint> service)
    {
        try
        {
            await Activate(service, TestIds.New("acct"));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
        }
    }

    private static async Task Activate(InProcessService<SampleServiceEntryPoint> service, string accountId) =>
        await service.Channel.CreateCallInvoker().AsyncUnaryCall(ProbeApi.Activate, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)),
            new StringValue { Value = accountId });
}
