using System.Net;
using FaceId.Auth;
using FaceId.TestKit;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace FaceId.Console.Tests;

/// <summary>No anonymous page, tokens only in the encrypted cookie, forms with antiforgery, development sign-in only with a key.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SignInTests(ConsolePlatform platform)
{
    [Theory]
    [InlineData("/")]
    [InlineData("/review")]
    [InlineData("/accounts/acc_x/bills")]
    [InlineData("/license/acc_x/app_x")]
    public async Task Every_page_and_the_license_endpoint_send_an_anonymous_visitor_to_the_sign_in_page(string path)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(platform.Url) };
        var answer = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.StartsWith("/signin", answer.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task A_form_post_without_its_antiforgery_token_is_refused()
    {
        using var http = new HttpClient { BaseAddress = new Uri(platform.Url) };
        var answer = await http.PostAsync("/signin/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = TestAuth.Token(Roles.Reviewer) }));
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
    }

    [Fact]
    public async Task A_pasted_token_signs_in_and_one_signed_with_another_key_does_not()
    {
        var context = await platform.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = platform.Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.FillAsync("#token", new TokenMinter(TokenMinter.NewKey()).Mint("intruder", [Roles.Operator]));
        await page.ClickAsync("#token-signin");
        await Expect(page.Locator("#signin-error")).ToBeVisibleAsync();
        Assert.Contains("error=token", page.Url);

        await page.FillAsync("#token", TestAuth.Minter.Mint("pasted-reviewer", [Roles.Reviewer]));
        await page.ClickAsync("#token-signin");
        await Expect(page.Locator("#signed-in-as")).ToContainTextAsync("pasted-reviewer");
        Assert.DoesNotContain("eyJ", page.Url); // the token is never in a URL
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "faceid.console");
        Assert.True(cookie.HttpOnly);
        Assert.DoesNotContain("eyJ", cookie.Value); // encrypted, not the raw JWT
        await ConsolePlatform.ScreenshotAsync(page, "home-reviewer");
    }

    [Fact]
    public async Task Without_a_signing_key_there_is_no_development_sign_in()
    {
        await using var console = await platform.StartConsoleAsync(new Dictionary<string, string?>
        {
            ["Auth__SigningKey"] = "",
            ["Auth__Authority"] = "http://127.0.0.1:9/unused-authority",
        });
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = console.HttpAddress };
        var signIn = await http.GetStringAsync("/signin");
        Assert.Contains("id=\"token-signin\"", signIn);
        Assert.DoesNotContain("development-signin", signIn);
        // No such endpoint: the post is an anonymous request like any other, sent to the sign-in page, and signs nobody in.
        var post = await http.PostAsync("/signin/development", new FormUrlEncodedContent(new Dictionary<string, string> { ["role"] = "operator" }));
        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);
        Assert.StartsWith("/signin?ReturnUrl=", post.Headers.Location!.PathAndQuery);
        Assert.False(post.Headers.Contains("Set-Cookie") && post.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("faceid.console=")));
    }

    [Fact]
    public async Task The_development_sign_in_page_offers_every_role_and_is_saved_as_a_screenshot()
    {
        var context = await platform.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = platform.Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        var roles = await page.Locator("#dev-role option").AllInnerTextsAsync();
        Assert.Equal(Roles.All, roles);
        await ConsolePlatform.ScreenshotAsync(page, "signin");
        // A bound role without its account is refused by the sign-in, not minted.
        await page.SelectOptionAsync("#dev-role", Roles.Console);
        await page.ClickAsync("#dev-signin");
        await Expect(page.Locator("#signin-error")).ToBeVisibleAsync();
    }
}
