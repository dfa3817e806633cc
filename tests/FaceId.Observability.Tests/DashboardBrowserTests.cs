using System.Diagnostics;
using System.Text.RegularExpressions;
using FaceId.Observability.Tests.Support;
using FaceId.TestKit;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.Observability.Tests;

/// <summary>
/// The local trace view: the Aspire dashboard started as a process (as ./faceid run starts it), the
/// services as processes exporting to it over OTLP, the demo's scenario, and headless Chromium
/// (Debian's chromium, driven by Playwright) finding the demo's trace with spans of three services.
/// </summary>
public sealed class DashboardBrowserTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    public const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_dashboard_shows_the_demo_trace_with_spans_of_onboarding_packages_and_metering()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install -y chromium (.ci/run installs it)");
        await using var dashboard = await AspireDashboard.StartAsync();

        var env = Platform.Environment(redis.ConnectionString);
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = dashboard.OtlpEndpoint;
        env["OTEL_BSP_SCHEDULE_DELAY"] = "200";
        env["OTEL_BLRP_SCHEDULE_DELAY"] = "200";
        env["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
        var started = await Task.WhenAll(
            ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Onboarding"), env),
            ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Packages"), env),
            ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env));
        await using var onboarding = started[0];
        await using var packages = started[1];
        await using var metering = started[2];

        // The demo of ./faceid run, as a process (as there), against these services' ports.
        var traceId = await RunDemoAsync($"onboarding={onboarding.GrpcPort},packages={packages.GrpcPort},metering={metering.GrpcPort}");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Timeout = 90_000,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        page.SetDefaultTimeout(30_000);
        try
        {
            // The trace list: the demo's trace appears (live) with spans of the three services.
            await page.GotoAsync($"{dashboard.Url}/traces");
            var row = page.Locator($"tr:has(td[title*='Trace Id: {traceId}'])");
            await Assertions.Expect(row).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            string[] services = ["onboarding", "packages", "metering"];
            foreach (var service in services)
                await Assertions.Expect(row.Locator(".trace-service-tag", new() { HasTextString = service + " (" })).ToBeVisibleAsync(new() { Timeout = 30_000 });

            // Its detail page (where the row leads): the spans of each service, down to the ledger's deduction.
            await page.GotoAsync($"{dashboard.Url}/traces/detail/{traceId}");
            await Assertions.Expect(page.Locator(".trace-header-details")).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator(".trace-header-details")).ToContainTextAsync(new Regex(@"Resources\s*3(?!\d)"), new() { Timeout = 30_000 });
            foreach (var span in new[] { "POST /faceid.onboarding.v1.OnboardingService/CreateAccount", "process faceid.service.activated.v1", "ledger.charge", "publish faceid.usage.charged.v1" })
                await Assertions.Expect(page.GetByText(span, new() { Exact = true }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        }
        catch
        {
            var shot = Path.Combine(Path.GetTempPath(), $"faceid-dashboard-failure-{traceId}.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
            output.WriteLine($"screenshot: {shot}{Environment.NewLine}dashboard output:{Environment.NewLine}{dashboard.Output}");
            throw;
        }
    }

    /// <summary>Runs FaceId.Demo's slice with a token of this run's signing key; returns the trace id it printed.</summary>
    private async Task<string> RunDemoAsync(string ports)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { ServiceProcess.FindServiceDll("FaceId.Demo"), "slice", "--host", "127.0.0.1", "--ports", ports, "--timeout-seconds", "30" })
            start.ArgumentList.Add(a);
        start.Environment["Auth__SigningKey"] = TestAuth.SigningKey;
        using var demo = Process.Start(start)!;
        var stdout = demo.StandardOutput.ReadToEndAsync();
        var stderr = demo.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            try
            {
                await demo.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                demo.Kill(entireProcessTree: true);
                throw;
            }
        }
        var narration = await stdout + await stderr;
        output.WriteLine(narration);
        Assert.True(demo.ExitCode == 0, $"the demo failed (exit {demo.ExitCode}):{Environment.NewLine}{narration}");
        return Regex.Match(narration, "Trace id of this demonstration: ([0-9a-f]{32})") is { Success: true } m
            ? m.Groups[1].Value
            : throw new Xunit.Sdk.XunitException("the demo printed no trace id:" + Environment.NewLine + narration);
    }
}
