using FaceId.Auth;
using FaceId.Contracts;
using FaceId.Contracts.Operations.V1;
using FaceId.TestKit;
using Microsoft.Playwright;
using StackExchange.Redis;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace FaceId.Console.Tests;

/// <summary>An operator sees each service's event bus as its EventOperations RPCs report it, and re-drives dead letters.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class OperatorTests(ConsolePlatform platform)
{
    [Fact]
    public async Task The_operations_page_shows_the_numbers_GetEventBusStatus_returns_and_its_dead_letters()
    {
        // A malformed entry on a topic Onboarding consumes: dead-lettered at once by its group.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(platform.Services.Redis.ConnectionString);
        var poison = (string)(await redis.GetDatabase().StreamAddAsync(EventTopics.BillIssued, "data", "not json"))!;
        var onboarding = new EventOperations.EventOperationsClient(platform.Services.Onboarding.ChannelWithToken(TestAuth.Token(Roles.Operator)));
        await Eventually.AssertAsync(async () =>
            (await onboarding.ListDeadLettersAsync(new ListDeadLettersRequest { Topic = EventTopics.BillIssued })).DeadLetters.Any(l => l.OriginalEntryId == poison),
            LocalPlatform.Timeout, "the malformed entry is dead-lettered");

        var page = await platform.SignInAsync(Roles.Operator);
        await page.ClickAsync("#nav-operations");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/operations$"));
        // The platform is quiet between tests, so the page and the RPC read the same numbers; retried in case an event was in flight.
        await Eventually.AssertAsync(async () =>
        {
            await page.ReloadAsync();
            await Expect(page.Locator(".event-bus-status")).ToHaveCountAsync(5);
            foreach (var project in LocalPlatform.Projects)
            {
                var service = project["FaceId.".Length..];
                var client = new EventOperations.EventOperationsClient(platform.Services[project].ChannelWithToken(TestAuth.Token(Roles.Operator)));
                var status = await client.GetEventBusStatusAsync(new GetEventBusStatusRequest());
                var outbox = page.Locator($"#outbox-{service}");
                if (await outbox.GetAttributeAsync("data-backlog") != status.Outbox.Backlog.ToString()) return false;
                var rows = page.Locator($".event-bus-status[data-service='{service}'] tbody tr");
                if (await rows.CountAsync() != status.Subscriptions.Count) return false;
                foreach (var s in status.Subscriptions)
                {
                    var row = page.Locator($".event-bus-status[data-service='{service}'] tr[data-topic='{s.Topic}']");
                    if (await row.GetAttributeAsync("data-pending") != s.Pending.ToString()
                        || await row.GetAttributeAsync("data-lag") != s.Lag.ToString()
                        || await row.GetAttributeAsync("data-dead-letters") != s.DeadLetters.ToString())
                        return false;
                }
            }
            return true;
        }, LocalPlatform.Timeout, "every service's status table shows what its GetEventBusStatus returns");
        var row = page.Locator($".event-bus-status[data-service='Onboarding'] tr[data-topic='{EventTopics.BillIssued}']");
        Assert.NotEqual("0", await row.GetAttributeAsync("data-dead-letters"));
        await Expect(page.Locator($".dead-letters[data-service='Onboarding'] tr[data-topic='{EventTopics.BillIssued}']").First).ToBeVisibleAsync();
        await ConsolePlatform.ScreenshotAsync(page, "operator-operations");

        // Redrive: the entries go back on the topic (a malformed one is dead-lettered again by the consumer).
        await page.ClickAsync($"button.redrive[data-service='Onboarding'][data-topic='{EventTopics.BillIssued}']");
        await Expect(page.Locator("#redrive-done")).ToBeVisibleAsync();
        Assert.True(await redis.GetDatabase().StreamLengthAsync(EventTopics.BillIssued) >= 2, "the redriven entry is back on the topic");
    }

    [Fact]
    public async Task Only_the_operator_sees_the_operations_menu()
    {
        var page = await platform.SignInAsync(Roles.Reviewer);
        await Expect(page.Locator("#nav-operations")).ToHaveCountAsync(0);
    }
}
