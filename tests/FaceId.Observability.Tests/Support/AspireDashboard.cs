using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using FaceId.TestKit;

namespace FaceId.Observability.Tests.Support;

/// <summary>
/// The standalone Aspire Dashboard started the way <c>./faceid run</c> starts it: the executable of
/// NuGet package Aspire.Dashboard.Sdk.linux-x64 (restored by services/Tools/FaceId.Dashboard, which
/// writes its path to aspire-dashboard.path), run as a plain process with an unsecured UI and an
/// OTLP/gRPC receiver, here on free loopback ports.
/// </summary>
public sealed class AspireDashboard : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AspireDashboard(Process process, int uiPort, int otlpPort)
    {
        _process = process;
        Url = $"http://127.0.0.1:{uiPort}";
        OtlpEndpoint = $"http://127.0.0.1:{otlpPort}";
    }

    /// <summary>The web UI.</summary>
    public string Url { get; }

    /// <summary>The OTLP/gRPC receiver, for OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public string OtlpEndpoint { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static async Task<AspireDashboard> StartAsync()
    {
        var executable = await LocateAsync();
        int ui = FreePort.Next(), otlp = FreePort.Next();
        var workDir = Path.Combine(Path.GetTempPath(), TestIds.New("dashboard"));
        Directory.CreateDirectory(workDir);
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ui}";
        start.Environment["DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{otlp}";
        start.Environment["DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        var process = new Process { StartInfo = start };
        var dashboard = new AspireDashboard(process, ui, otlp);
        process.OutputDataReceived += (_, e) => dashboard.Append(e.Data);
        process.ErrorDataReceived += (_, e) => dashboard.Append(e.Data);
        process.Start();
        Running[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Eventually.AssertAsync(async () =>
            {
                if (process.HasExited) throw new InvalidOperationException($"the dashboard exited with code {process.ExitCode}:{Environment.NewLine}{dashboard.Output}");
                return await ListeningAsync(ui) && await ListeningAsync(otlp);
            }, TimeSpan.FromSeconds(60), "the Aspire dashboard listens on its UI and OTLP ports");
        }
        catch
        {
            await dashboard.DisposeAsync();
            throw;
        }
        return dashboard;
    }

    /// <summary>
    /// The dashboard executable: the path FaceId.Dashboard's build wrote, building that project
    /// first when it has not been built (it is outside the solution, as for ./faceid run).
    /// </summary>
    public static async Task<string> LocateAsync()
    {
        var root = MetricTests.RepoRoot();
        var configuration = typeof(AspireDashboard).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var project = Path.Combine(root, "services", "Tools", "FaceId.Dashboard", "FaceId.Dashboard.csproj");
        var pathFile = Path.Combine(Path.GetDirectoryName(project)!, "bin", configuration, "net10.0", "aspire-dashboard.path");
        string? Found() => File.Exists(pathFile) && File.ReadAllText(pathFile).Trim() is { Length: > 0 } p && File.Exists(p) ? p : null;
        if (Found() is { } found) return found;

        var build = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "build", project, "-c", configuration, "-nologo", "-v", "q" }) build.ArgumentList.Add(a);
        using var process = Process.Start(build)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return Found() ?? throw new InvalidOperationException(
            $"The Aspire dashboard is not available: building {project} (which restores NuGet package Aspire.Dashboard.Sdk.linux-x64) " +
            $"exited with {process.ExitCode}:{Environment.NewLine}{await stdout}{await stderr}");
    }

    private static async Task<bool> ListeningAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Process> Running = new();

    static AspireDashboard()
    {
        // Never outlive the test run, even if a test forgot to dispose.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Running.Values)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* gone */ }
            }
        };
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
    }
}
