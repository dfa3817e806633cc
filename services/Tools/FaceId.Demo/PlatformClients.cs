using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace FaceId.Demo;

/// <summary>gRPC clients for the five services on their fixed local ports (README "Ports").</summary>
public sealed class PlatformClients(string host)
{
    public static readonly IReadOnlyDictionary<string, int> Ports = new Dictionary<string, int>
    {
        ["onboarding"] = 5101, ["packages"] = 5102, ["metering"] = 5103, ["billing"] = 5104, ["refund"] = 5105,
    };

    private readonly Dictionary<string, GrpcChannel> _channels = Ports.ToDictionary(p => p.Key, p => GrpcChannel.ForAddress($"http://{host}:{p.Value}"));

    public OnboardingService.OnboardingServiceClient Onboarding => new(_channels["onboarding"]);
    public PackagesService.PackagesServiceClient Packages => new(_channels["packages"]);
    public MeteringService.MeteringServiceClient Metering => new(_channels["metering"]);

    /// <summary>Polls grpc.health.v1 on every service until all answer SERVING or the time is up.</summary>
    public async Task<bool> WaitHealthyAsync(TimeSpan timeout, TextWriter log)
    {
        var deadline = DateTime.UtcNow + timeout;
        var pending = new HashSet<string>(Ports.Keys);
        while (pending.Count > 0)
        {
            foreach (var name in pending.ToList())
            {
                try
                {
                    var reply = await new Health.HealthClient(_channels[name]).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                    {
                        pending.Remove(name);
                        await log.WriteLineAsync($"  ✔ {name,-10} healthy on {host}:{Ports[name]}");
                    }
                }
                catch (Grpc.Core.RpcException)
                {
                    // not up yet
                }
            }
            if (pending.Count == 0) break;
            if (DateTime.UtcNow > deadline)
            {
                await log.WriteLineAsync($"  ✘ not healthy after {timeout.TotalSeconds:0}s: {string.Join(", ", pending)}");
                return false;
            }
            await Task.Delay(250);
        }
        return true;
    }
}
