using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using StandardWebhooks;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>webhooks create | list | update | disable | enable | rotate-secret | deliveries | redeliver | delete, against a real receiver.</summary>
[Collection(PlatformCollection.Name)]
public sealed class WebhookTests(PlatformFixture platform)
{
    [Fact]
    public async Task An_endpoint_is_managed_from_faceidctl_and_receives_a_signed_delivery_that_can_be_sent_again()
    {
        var account = await platform.OpenedAccountAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var created = (await platform.RunAsOperatorAsync("webhooks", "create", "--account", account, "--url", receiver.Url.ToString(),
            "--events", "package.delivered", "--json")).AssertExit(ExitCodes.Ok).Json<WebhookEndpointWithSecret>();
        var id = created.Endpoint.EndpointId;
        var listed = (await platform.RunAsOperatorAsync("webhooks", "list", "--account", account)).AssertExit(ExitCodes.Ok);
        Assert.Contains(id, listed.Out);

        (await platform.RunAsync("packages", "buy", "--account", account, "--label", "basic_self_photo", "--size", "1000", "--order-id", TestIds.New("order"))).AssertExit(ExitCodes.Ok);
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 1, PlatformFixture.Timeout, "the package delivered webhook");
        var first = receiver.Accepted[0];
        new StandardWebhook(created.Secret).Verify(first.Body, first.Headers);

        // The receiver counts a request before it answers, so the worker may not have recorded the attempt yet.
        var deliveries = await Eventually.GetAsync(
            async () => (await platform.RunAsOperatorAsync("webhooks", "deliveries", id, "--account", account, "--json")).AssertExit(ExitCodes.Ok).Json<ListWebhookDeliveriesResponse>(),
            r => r.Deliveries.Any(d => d.State == WebhookDeliveryState.Delivered), PlatformFixture.Timeout, "the delivery recorded as delivered");
        var delivery = Assert.Single(deliveries.Deliveries);
        Assert.Equal((first.Id, WebhookDeliveryState.Delivered, 200), (delivery.DeliveryId, delivery.State, delivery.Attempts.Single().StatusCode));
        var table = (await platform.RunAsOperatorAsync("webhooks", "deliveries", id, "--account", account)).AssertExit(ExitCodes.Ok);
        Assert.Contains("200/", table.Out);

        (await platform.RunAsOperatorAsync("webhooks", "redeliver", id, delivery.DeliveryId, "--account", account)).AssertExit(ExitCodes.Ok);
        await Eventually.AssertAsync(() => receiver.Accepted.Count == 2, PlatformFixture.Timeout, "sent again");
        Assert.Equal(first.Id, receiver.Accepted[1].Id);

        var rotated = (await platform.RunAsOperatorAsync("webhooks", "rotate-secret", id, "--account", account, "--grace", "60", "--json"))
            .AssertExit(ExitCodes.Ok).Json<WebhookEndpointWithSecret>();
        Assert.NotEqual(created.Secret, rotated.Secret);
        var updated = (await platform.RunAsOperatorAsync("webhooks", "update", id, "--account", account, "--events", "package.delivered,refund.completed", "--json"))
            .AssertExit(ExitCodes.Ok).Json<WebhookEndpoint>();
        Assert.Equal(["package.delivered", "refund.completed"], updated.EventTypes);
        Assert.False((await platform.RunAsOperatorAsync("webhooks", "disable", id, "--account", account, "--json")).AssertExit(ExitCodes.Ok).Json<WebhookEndpoint>().Enabled);
        Assert.True((await platform.RunAsOperatorAsync("webhooks", "enable", id, "--account", account, "--json")).AssertExit(ExitCodes.Ok).Json<WebhookEndpoint>().Enabled);

        var refused = (await platform.RunAsOperatorAsync("webhooks", "create", "--account", account, "--url", "http://169.254.169.254/latest/meta-data/", "--events", "package.delivered"))
            .AssertExit(ExitCodes.InvalidArgument);
        Assert.Contains("url: forbidden address (metadata)", refused.Err);
        (await platform.RunAsOperatorAsync("webhooks", "delete", id, "--account", account)).AssertExit(ExitCodes.Ok);
        (await platform.RunAsOperatorAsync("webhooks", "delete", id, "--account", account)).AssertExit(ExitCodes.NotFound);
    }
}
