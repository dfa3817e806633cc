using System.Diagnostics;
using System.Reflection;
using System.Text;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace FaceId.TestKit;

/// <summary>The service process ended or never became healthy; the message carries its output.</summary>
public sealed class ServiceStartException(string message) : Exception(message);

/// <summary>
/// A built service run as a real OS process (<c>dotnet &lt;dll&gt;</c>) for end-to-end and fault
/// tests: its own gRPC and HTTP/1.1 ports (<c>Ports__Grpc</c>, <c>Ports__Http</c>, chosen free unless given), environment variables
/// for configuration (<c>Redis__ConnectionString</c>, <c>EventBus__OutboxSweepIntervalMs</c>, ...),
/// stdout and stderr captured to a log file and to <see cref="Output"/>. Started means the gRPC
/// health check (grpc.health.v1) answered SERVING. <see cref="Kill"/> is a crash (SIGKILL),
/// <see cref="StopAsync"/> a graceful shutdown (SIGTERM).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    // Generous: on a loaded 2-core CI machine a restarted service may first wait for CPU behind the load it joins.
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, string?> _environment;
    private readonly StringBuilder _output = new();
    private readonly object _logLock = new();
    private StreamWriter? _log;
    private Process? _process;
    private GrpcChannel? _channel;

    private ServiceProcess(string dllPath, Dictionary<string, string?> environment, int grpcPort, int httpPort, string logDirectory)
    {
        DllPath = dllPath;
        _environment = environment;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        LogFile = Path.Combine(logDirectory, Path.GetFileNameWithoutExtension(dllPath) + ".log");
    }

    public string DllPath { get; }

    public int GrpcPort { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>: HTTP/2 cleartext (gRPC with prior knowledge).</summary>
    public Uri Address => new($"http://127.0.0.1:{GrpcPort}");

    /// <summary>The HTTP/1.1 port (<c>Ports__Http</c>, chosen free unless given): JSON transcoding, OpenAPI, Dapr callbacks.</summary>
    public int HttpPort { get; }

    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>A channel to the service's gRPC port; it reconnects across restarts.</summary>
    public GrpcChannel Channel => _channel ??= ChannelWithToken(TestAuth.OperatorToken);

    /// <summary>A new channel to the process whose calls carry <paramref name="token"/> (empty: none).</summary>
    public GrpcChannel ChannelWithToken(string token) => GrpcChannel.ForAddress(Address, new GrpcChannelOptions().WithToken(token));

    /// <summary>The log file of every run of this process (stdout and stderr, in order).</summary>
    public string LogFile { get; }

    /// <summary>Everything the process printed so far, across restarts.</summary>
    public string Output
    {
        get { lock (_logLock) return _output.ToString(); }
    }

    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("Not started.");

    public bool HasExited => _process is null || _process.HasExited;

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Starts <paramref name="dllPath"/> and waits until its health check says SERVING.</summary>
    public static async Task<ServiceProcess> StartAsync(string dllPath, IReadOnlyDictionary<string, string?> environment, TimeSpan? startTimeout = null)
    {
        var service = Launch(dllPath, environment);
        try
        {
            await service.WaitUntilServingAsync(startTimeout ?? DefaultStartTimeout);
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the process without waiting for it to be healthy (e.g. to watch it fail at start-up).</summary>
    public static ServiceProcess Launch(string dllPath, IReadOnlyDictionary<string, string?> environment)
    {
        if (!File.Exists(dllPath)) throw new FileNotFoundException($"Service assembly {dllPath} does not exist; build it first.", dllPath);
        var env = new Dictionary<string, string?>(environment, StringComparer.Ordinal);
        if (!env.TryGetValue("Ports__Grpc", out var portText) || !int.TryParse(portText, out var port))
        {
            port = FreePort.Next();
            env["Ports__Grpc"] = port.ToString();
        }
        if (!env.TryGetValue("Ports__Http", out var httpText) || !int.TryParse(httpText, out var httpPort))
        {
            httpPort = FreePort.Next();
            env["Ports__Http"] = httpPort.ToString();
        }
        var logDirectory = Path.Combine(Path.GetTempPath(), "faceid-services", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(logDirectory);
        var service = new ServiceProcess(Path.GetFullPath(dllPath), env, port, httpPort, logDirectory);
        service.StartProcess();
        return service;
    }

    /// <summary>Polls grpc.health.v1.Health/Check until SERVING; fails at once if the process exits.</summary>
    public async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var client = new Health.HealthClient(Channel);
        var delay = 10;
        var last = "no answer yet";
        while (clock.Elapsed < timeout)
        {
            if (_process is null || _process.HasExited)
            {
                await WaitForExitAsync(TimeSpan.FromSeconds(5));
                throw new ServiceStartException(
                    $"{Name} exited with code {ExitCode} before it was healthy. Output:{Environment.NewLine}{Output}");
            }
            try
            {
                var reply = await client.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving) return;
                last = reply.Status.ToString();
            }
            catch (RpcException e)
            {
                last = e.Status.ToString();
            }
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 50);
        }
        throw new ServiceStartException(
            $"{Name} was not SERVING within {timeout.TotalSeconds} s (last: {last}). Output:{Environment.NewLine}{Output}");
    }

    /// <summary>Asks grpc.health.v1 once.</summary>
    public async Task<HealthCheckResponse.Types.ServingStatus> CheckHealthAsync(string service = "")
    {
        var reply = await new Health.HealthClient(Channel).CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow.AddSeconds(5));
        return reply.Status;
    }

    /// <summary>SIGKILL of the process tree: a crash, no shutdown code runs.</summary>
    public void Kill()
    {
        if (_process is not { HasExited: false } p) return;
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* exited meanwhile */ }
        if (!p.WaitForExit(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException($"{Name} (pid {p.Id}) did not die after SIGKILL.");
        p.WaitForExit(); // drain the redirected output
        ChildProcesses.Forget(p);
    }

    /// <summary>SIGTERM, then waits for a graceful exit (SIGKILL after <paramref name="timeout"/>, default 15 s).</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process is not { HasExited: false } p) return;
        ChildProcesses.Terminate(p);
        if (!await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(15))) Kill();
    }

    /// <summary>Stops the process gracefully if it runs, starts it again with the same port and environment, and waits until SERVING.</summary>
    public async Task RestartAsync(TimeSpan? startTimeout = null)
    {
        await StopAsync();
        StartProcess();
        await WaitUntilServingAsync(startTimeout ?? DefaultStartTimeout);
    }

    /// <summary>Waits for the process to end; false at the deadline.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is not { } p) return true;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token); // also drains the redirected output
            ChildProcesses.Forget(p);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _channel?.Dispose();
        _process?.Dispose();
        await Task.CompletedTask;
        lock (_logLock)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    public override string ToString() => $"{Name} (gRPC {Address}, log {LogFile})";

    private string Name => Path.GetFileNameWithoutExtension(DllPath);

    private void StartProcess()
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(DllPath)!,
        };
        start.ArgumentList.Add(DllPath);
        start.Environment["Auth__SigningKey"] = TestAuth.SigningKey;
        foreach (var (key, value) in _environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        lock (_logLock)
        {
            _log ??= new StreamWriter(LogFile, append: true) { AutoFlush = true };
            var banner = $"==== {DateTime.UtcNow:O} start {Name} on gRPC port {GrpcPort}";
            _log.WriteLine(banner);
            _output.AppendLine(banner);
        }
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process?.Dispose();
        process.Start();
        ChildProcesses.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_logLock)
        {
            _output.AppendLine(line);
            _log?.WriteLine(line);
        }
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    /// <summary>
    /// The built assembly of the project named <paramref name="projectName"/> (e.g. "FaceId.Metering"):
    /// <c>&lt;repo&gt;/services/**/&lt;projectName&gt;.csproj</c> (then tests/**), output
    /// <c>bin/&lt;Configuration&gt;/net10.0/&lt;projectName&gt;.dll</c>, with the configuration this test
    /// run was built in (Debug or Release). A ProjectReference from the test project builds it.
    /// </summary>
    public static string FindServiceDll(string projectName)
    {
        var root = RepoRoot();
        var configuration = typeof(ServiceProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var project = new[] { "services", "tests" }
            .Select(d => Path.Combine(root, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, projectName + ".csproj", SearchOption.AllDirectories))
            .FirstOrDefault(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            ?? throw new FileNotFoundException($"No project {projectName}.csproj under {root}/services or {root}/tests.");
        var dll = Path.Combine(Path.GetDirectoryName(project)!, "bin", configuration, "net10.0", projectName + ".dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException(
                $"{dll} is not built: run `dotnet build {Path.GetRelativePath(root, project)} -c {configuration}` (or add a ProjectReference from the test project).", dll);
        return dll;
    }

    /// <summary>The folder holding FaceIdPlatform.sln, found by walking up from the test's output folder.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FaceIdPlatform.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"FaceIdPlatform.sln not found above {AppContext.BaseDirectory}.");
    }
}
