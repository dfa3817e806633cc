using FaceId.Auth;
using FaceId.TestKit;
using Microsoft.Playwright;
using Xunit;

namespace FaceId.Console.Tests;

/// <summary>
/// The platform a console user sees: TestKit's <see cref="LocalPlatform"/> (redis-server and the five
/// services as OS processes), the console as an OS process pointed at their gRPC ports with the same
/// signing key (so its development sign-in is on), and one headless Chromium for every test.
/// </summary>
public sealed class ConsolePlatform : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    public LocalPlatform Services { get; } = new();
    public ServiceProcess Console { get; private set; } = default!;
    public IBrowser Browser { get; private set; } = default!;
    private IPlaywright? _playwright;

    public string Url => $"http://127.0.0.1:{Console.HttpPort}";

    /// <summary>Where the run's screenshots go: a folder under the test output (docs/console.md shows some).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "console-screenshots");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install -y chromium (./faceid test installs it)");
        Directory.CreateDirectory(ScreenshotDirectory);
        // Playwright's assertions wait 5 s by default: too short for a page of several service calls on a loaded machine.
        Assertions.SetDefaultExpectTimeout(30_000);
        await Services.InitializeAsync();
        Console = await StartConsoleAsync(new Dictionary<string, string?>());
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Timeout = 90_000,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
    }

    /// <summary>Starts a console process against this platform's services and waits for its health endpoint.</summary>
    public async Task<ServiceProcess> StartConsoleAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var env = new Dictionary<string, string?>
        {
            ["Services__Onboarding"] = Services.Onboarding.Address.ToString(),
            ["Services__Packages"] = Services.Packages.Address.ToString(),
            ["Services__Metering"] = Services.Metering.Address.ToString(),
            ["Services__Billing"] = Services.Billing.Address.ToString(),
            ["Services__Refund"] = Services.Refund.Address.ToString(),
        };
        foreach (var (key, value) in settings) env[key] = value;
        var console = ServiceProcess.Launch(ServiceProcess.FindServiceDll("FaceId.Console"), env);
        using var http = new HttpClient();
        await Eventually.AssertAsync(async () =>
        {
            Assert.False(console.HasExited, $"the console exited with {console.ExitCode}:{Environment.NewLine}{console.Output}");
            try { return (await http.GetAsync(new Uri(console.HttpAddress, "/healthz"))).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(60), "the console answers /healthz");
        return console;
    }

    /// <summary>A fresh browser context (its own cookies) signed in through the development sign-in page.</summary>
    public async Task<IPage> SignInAsync(string role, string? account = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Url, ViewportSize = new ViewportSize { Width = 1440, Height = 1000 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync("/signin");
        await page.SelectOptionAsync("#dev-role", role);
        if (account is not null) await page.FillAsync("#dev-account", account);
        await page.ClickAsync("#dev-signin");
        await page.WaitForURLAsync(u => !u.Contains("/signin"));
        return page;
    }

    public Task<IPage> SignInAsCustomerAsync(string accountId) => SignInAsync(Roles.Console, accountId);

    /// <summary>Saves a full-page screenshot named <paramref name="name"/>.png in <see cref="ScreenshotDirectory"/>.</summary>
    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Console is not null) await Console.DisposeAsync();
        await Services.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsolePlatform>
{
    public const string Name = "console against a local platform";
}
