using FaceId.Auth;
using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using Grpc.Net.Client;

namespace FaceId.Onboarding.Tests.Support;

/// <summary>Webhook steps and host settings shared by the webhook tests.</summary>
public static class Webhooks
{
    /// <summary>Short back-off (tests), loopback allowed so the in-test receiver can be reached.</summary>
    public static void FastDelivery(Dictionary<string, string?> config, bool allowLoopback = true)
    {
        config["Webhooks:PollIntervalMs"] = "20";
        config["Webhooks:JitterFraction"] = "0.2";
        config["Webhooks:AttemptTimeoutMs"] = "1000";
        config["Webhooks:ClaimLeaseMs"] = "2000";
        for (var i = 0; i < 6; i++) config[$"Webhooks:RetryDelaysMs:{i}"] = (100 * (1 << i)).ToString(); // 100 ms … 3.2 s
        if (allowLoopback)
        {
            config["Webhooks:AllowedNetworks:0"] = "127.0.0.0/8";
            config["Webhooks:AllowedNetworks:1"] = "::1/128";
        }
    }

    public static OnboardingService.OnboardingServiceClient Console(Func<string, GrpcChannel> channelWithToken, string accountId) =>
        new(channelWithToken(TestAuth.Token(Roles.Console, accountId)));

    public static async Task<WebhookEndpointWithSecret> CreateAsync(OnboardingService.OnboardingServiceClient client, string accountId, Uri url, params string[] types) =>
        await client.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
        {
            IdempotencyKey = TestIds.New("wh-key"), AccountId = accountId, Url = url.ToString(), EventTypes = { types },
        });

    public static async Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(OnboardingService.OnboardingServiceClient client, string accountId, string endpointId) =>
        (await client.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { AccountId = accountId, EndpointId = endpointId, Page = new() { PageSize = 500 } })).Deliveries;
}
