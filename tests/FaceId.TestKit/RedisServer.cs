using System.Diagnostics;
using System.Text;
using StackExchange.Redis;

namespace FaceId.TestKit;

/// <summary>Thrown when the redis-server binary is not installed.</summary>
public sealed class RedisServerNotFoundException(string message) : Exception(message);

/// <summary>
/// A real <c>redis-server</c> process on a free loopback port with its own temporary directory:
/// no persistence unless asked (<c>--save "" --appendonly no</c>; pass e.g.
/// <c>--appendonly yes --appendfsync always</c> as extra arguments for crash tests, later
/// arguments win). Started with <see cref="StartAsync(string[])"/>, stopped and deleted on dispose.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string DefaultBinary = "redis-server";

    public const string InstallHint =
        "redis-server not found: install it with `apt-get install -y redis-server` (Debian) or run ./faceid test which installs it";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45); // loading an AOF on a saturated 2-core machine
    private readonly string _binaryPath;
    private readonly string[] _extraArgs;
    private readonly bool _ownsDirectory;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private RedisServer(string binaryPath, int port, string directory, bool ownsDirectory, string[] extraArgs)
    {
        _binaryPath = binaryPath;
        Port = port;
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        _extraArgs = extraArgs;
    }

    public int Port { get; }

    /// <summary>StackExchange.Redis configuration string: <c>127.0.0.1:PORT</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>The server's working directory (<c>--dir</c>): AOF/RDB files, nodes.conf.</summary>
    public string Directory { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the server printed (its log), for failure messages.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts a server on a free port; <paramref name="extraArgs"/> are appended to the command line.</summary>
    public static Task<RedisServer> StartAsync(params string[] extraArgs) => StartAsync(DefaultBinary, port: null, extraArgs);

    /// <summary>Starts a server on the given port (null: a free one, retried if it is taken meanwhile).</summary>
    public static Task<RedisServer> StartAsync(int? port, params string[] extraArgs) => StartAsync(DefaultBinary, port, extraArgs);

    internal static async Task<RedisServer> StartAsync(string binary, int? port, string[] extraArgs)
    {
        var binaryPath = FindExecutable(binary) ?? throw new RedisServerNotFoundException($"{InstallHint} (looked for '{binary}' on PATH)");
        Exception? last = null;
        for (var attempt = 0; attempt < (port is null ? 5 : 1); attempt++)
        {
            var directory = Path.Combine(Path.GetTempPath(), "faceid-redis-" + Guid.NewGuid().ToString("N")[..12]);
            System.IO.Directory.CreateDirectory(directory);
            var server = new RedisServer(binaryPath, port ?? FreePort.Next(), directory, ownsDirectory: true, extraArgs);
            try
            {
                await server.LaunchAsync();
                return server;
            }
            catch (Exception e)
            {
                last = e;
                await server.DisposeAsync();
                // Only a port taken between FreePort.Next() and the bind is worth another try.
                if (!server.Output.Contains("Address already in use", StringComparison.OrdinalIgnoreCase)) throw;
            }
        }
        throw last!;
    }

    /// <summary>A client connected to this server (admin commands allowed). The caller disposes it.</summary>
    public IConnectionMultiplexer Connect()
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AllowAdmin = true;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5_000;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>Sends one command over a fresh socket and returns the reply as text (see <see cref="Resp"/>).</summary>
    public Task<string?> CommandAsync(params string[] args) => Resp.CommandAsync(Port, TimeSpan.FromSeconds(5), args);

    /// <summary>SIGKILL: the server dies at once, as in a crash; unsynced data is lost.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } p) return;
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already exited */ }
        await WaitForExitAsync(p);
    }

    /// <summary>SHUTDOWN (graceful: the AOF, if enabled, is flushed), then waits for the process to end.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } p) return;
        try
        {
            await Resp.CommandAsync(Port, TimeSpan.FromSeconds(5), "SHUTDOWN");
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or System.Net.Sockets.SocketException)
        {
            // SHUTDOWN closes the connection instead of replying.
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
        await WaitForExitAsync(p);
    }

    /// <summary>Starts the server again on the same port and directory (stopping it gracefully first if it runs).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        if (_ownsDirectory)
        {
            try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public override string ToString() => $"redis-server {ConnectionString} ({Directory})";

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo(_binaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach (var arg in (string[])["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", Directory, "--daemonize", "no",
                     // As ./faceid run: package records (≤ ~150 bytes) stay in listpack-encoded buckets, and a request-id
                     // hash that expires is freed in the background (docs/reliability.md).
                     "--hash-max-listpack-value", "192", "--lazyfree-lazy-expire", "yes", .. _extraArgs])
            start.ArgumentList.Add(arg);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process?.Dispose();
        process.Start();
        ChildProcesses.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitUntilReadyAsync(process);
    }

    private async Task WaitUntilReadyAsync(Process process)
    {
        var clock = Stopwatch.StartNew();
        var delay = 1;
        string? lastProblem = null;
        while (clock.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                await WaitForExitAsync(process);
                throw new InvalidOperationException($"redis-server on port {Port} exited with code {process.ExitCode} during start-up:{Environment.NewLine}{Output}");
            }
            try
            {
                if (await Resp.CommandAsync(Port, TimeSpan.FromSeconds(1), "PING") == "PONG") return;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or RespErrorException or OperationCanceledException)
            {
                lastProblem = e.Message; // not listening yet, or LOADING the AOF
            }
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 50);
        }
        throw new TimeoutException($"redis-server on port {Port} did not answer PING within {StartTimeout.TotalSeconds} s ({lastProblem}):{Environment.NewLine}{Output}");
    }

    private static async Task WaitForExitAsync(Process p)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await p.WaitForExitAsync(cts.Token); // also drains the redirected output
        ChildProcesses.Forget(p);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    internal static string? FindExecutable(string name)
    {
        if (name.Contains(Path.DirectorySeparatorChar))
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
