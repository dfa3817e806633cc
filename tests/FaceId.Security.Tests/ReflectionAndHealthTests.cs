using FaceId.Auth;
using FaceId.TestKit;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Xunit;

namespace FaceId.Security.Tests;

/// <summary>
/// What the documented grpcurl lines do (README, docs/api.md): `grpcurl … list` reads server
/// reflection, which takes any valid token; `grpcurl … grpc.health.v1.Health/Check` needs none.
/// grpcurl itself is not installable on these machines, so these calls stand in for it.
/// </summary>
public sealed class ReflectionAndHealthTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    private static async Task<IReadOnlyList<string>> ListServicesAsync(Grpc.Net.Client.GrpcChannel channel)
    {
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(10));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
    }

    [Theory]
    [InlineData(Roles.Operator)]
    [InlineData(Roles.Gateway)]
    [InlineData(Roles.Reviewer)]
    public async Task Reflection_lists_the_services_for_any_valid_token(string role)
    {
        var services = await ListServicesAsync(platform.Channel("metering", TestAuth.Token(role)));
        Assert.Contains("faceid.metering.v1.MeteringService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task Reflection_without_a_token_is_UNAUTHENTICATED()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => ListServicesAsync(platform.Channel("metering", "")));
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
    }

    [Theory]
    [InlineData("onboarding")]
    [InlineData("packages")]
    [InlineData("metering")]
    [InlineData("billing")]
    [InlineData("refund")]
    public async Task Health_answers_without_a_token(string service)
    {
        var reply = await new Health.HealthClient(platform.Channel(service, "")).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }
}
