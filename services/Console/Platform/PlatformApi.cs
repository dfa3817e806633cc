using FaceId.Console.SignIn;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Operations.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Components.Authorization;

namespace FaceId.Console.Platform;

/// <summary>One gRPC channel per service, for the whole process (addresses from the "Services" section).</summary>
public sealed class ServiceChannels(IConfiguration configuration) : IDisposable
{
    private readonly Dictionary<string, GrpcChannel> _channels = ConsoleDefaults.ServiceAddresses.ToDictionary(
        s => s.Key,
        s => GrpcChannel.ForAddress(configuration[$"{ConsoleDefaults.ServicesSection}:{s.Key}"] ?? s.Value,
            new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 * 1024 }));

    public GrpcChannel this[string service] => _channels[service];

    public void Dispose()
    {
        foreach (var channel in _channels.Values) channel.Dispose();
    }
}

/// <summary>
/// The five services' clients for one signed-in user (a circuit or a request): every call carries
/// the user's bearer token, so each service decides what this user may see.
/// </summary>
public sealed class PlatformApi(ServiceChannels channels, AuthenticationStateProvider authentication)
{
    public OnboardingService.OnboardingServiceClient Onboarding { get; } = new(channels["Onboarding"]);
    public PackagesService.PackagesServiceClient Packages { get; } = new(channels["Packages"]);
    public BillingService.BillingServiceClient Billing { get; } = new(channels["Billing"]);
    public RefundService.RefundServiceClient Refund { get; } = new(channels["Refund"]);

    /// <summary>The names of the five services, as in the "Services" section.</summary>
    public static IEnumerable<string> ServiceNames => ConsoleDefaults.ServiceAddresses.Keys;

    /// <summary>The event-bus operations every service serves (operator role).</summary>
    public EventOperations.EventOperationsClient EventOperationsOf(string service) => new(channels[service]);

    /// <summary>Call options with the signed-in user's token.</summary>
    public async Task<CallOptions> CallAsync(CancellationToken cancellation = default) =>
        WithToken((await authentication.GetAuthenticationStateAsync()).User.Token(), cancellation);

    public static CallOptions WithToken(string token, CancellationToken cancellation) =>
        new(headers: new Metadata { { "Authorization", "Bearer " + token } }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellation);
}

public static class PlatformClientsExtensions
{
    public static IServiceCollection AddPlatformClients(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ServiceChannels>();
        services.AddScoped<PlatformApi>();
        return services;
    }
}
