using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using FaceId.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.Deploy.Tests;

/// <summary>
/// The deployment rehearsal: what <c>kubectl apply -k</c> would run, run here as processes. Each
/// service Deployment of the rendering (<c>kubectl kustomize</c>) starts as <c>dotnet &lt;built
/// dll&gt;</c> with exactly the environment the pod's container gets (<see cref="ContainerEnvironment"/>),
/// where only what names the cluster is mapped to this machine (<see cref="Remap"/>), and the demo
/// slice (services/Tools/FaceId.Demo) runs through the five of them.
/// </summary>
public sealed class RehearsalTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    [Theory]
    [MemberData(nameof(ManifestTests.Platforms), MemberType = typeof(ManifestTests))]
    public async Task The_rendered_deployments_start_as_rendered_and_serve_the_demo_slice(string directory)
    {
        var clock = Stopwatch.StartNew();
        var r = Kustomize.Render(directory);
        var problems = SettingsCheck.Problems(r);
        var found = problems.Count == 0 ? "" : $"{Environment.NewLine}The settings check found:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}";

        // Started as rendered even when the check found something: a missing required setting must
        // stop the service itself (with its own message), which is what a cluster would show.
        var cluster = directory.EndsWith("redis-cluster", StringComparison.Ordinal);
        Rehearsal rehearsal;
        try
        {
            rehearsal = await Rehearsal.StartAsync(r, cluster, output);
        }
        catch (ServiceStartException e)
        {
            throw new Xunit.Sdk.XunitException($"{directory}: a service did not start with the environment of its rendered Deployment: {e.Message}{found}");
        }
        await using var _ = rehearsal;
        output.WriteLine($"{directory}: Redis and the five services up after {clock.Elapsed.TotalSeconds:F1} s");
        if (rehearsal.Cluster is { } redis)
        {
            // Every node of the rehearsal runs the overlay's settings.
            var expected = RedisClusterOverlay.LocalSettings(r).Append(("cluster-node-timeout", RedisClusterOverlay.Setting(r, "cluster-node-timeout"))).ToList();
            using var admin = redis.Connect();
            Assert.Equal(6, redis.Nodes.Count);
            foreach (var node in redis.Nodes)
            {
                var server = admin.GetServer(node.ConnectionString);
                foreach (var (name, value) in expected)
                    Assert.Equal((name, value), (name, server.ConfigGet(name).Single(kv => kv.Key == name).Value));
            }
        }
        // A setting the code does not know does not stop a service (.NET ignores it): the check does.
        Assert.True(problems.Count == 0, $"{directory}: the services started, but{found}");

        // The console, started from its Deployment against the five: healthy, no page without sign-in,
        // and only the token sign-in (the Deployment turns the development sign-in off).
        var console = await rehearsal.StartConsoleAsync(r, output);
        using (var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = console.HttpAddress })
        {
            var health = await http.GetAsync("/healthz");
            Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
            var page = await http.GetAsync("/usage");
            Assert.Equal(System.Net.HttpStatusCode.Redirect, page.StatusCode);
            Assert.Equal("/signin", page.Headers.Location?.AbsolutePath ?? page.Headers.Location?.OriginalString.Split('?')[0]);
            var signIn = await http.GetStringAsync("/signin");
            Assert.Contains("action=\"/signin/token\"", signIn);
            Assert.DoesNotContain("/signin/development", signIn);
            // A token signed with the Secret's key (as the services check it) signs in: back to "/", not "?error=token".
            var input = Regex.Match(signIn, @"<input[^>]*name=""__RequestVerificationToken""[^>]*>");
            var antiforgery = Regex.Match(input.Value, @"value=""([^""]+)""");
            Assert.True(antiforgery.Success, "the sign-in form carries an antiforgery token");
            var token = new FaceId.Auth.TokenMinter(rehearsal.SigningKey).Mint("rehearsal-operator", ["operator"]);
            var posted = await http.PostAsync("/signin/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["token"] = token,
                ["__RequestVerificationToken"] = System.Net.WebUtility.HtmlDecode(antiforgery.Groups[1].Value),
            }));
            Assert.Equal(System.Net.HttpStatusCode.Redirect, posted.StatusCode);
            Assert.Equal("/", posted.Headers.Location?.OriginalString);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/")).StatusCode);
        }

        var (exit, text) = await rehearsal.RunDemoSliceAsync();
        output.WriteLine(text);
        Assert.True(exit == 0, $"{directory}: the demo slice failed (exit {exit}):{Environment.NewLine}{text}{Environment.NewLine}{rehearsal.Logs()}");
        output.WriteLine($"{directory}: rehearsal done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task A_deployment_without_the_signing_key_fails_the_rehearsal_naming_the_key()
    {
        var r = Kustomize.Render("deploy/k8s").Copy();
        var refund = r.Single("Deployment", "refund");
        var env = (List<object?>)refund.Node.Maps("spec.template.spec.containers").Single()["env"]!;
        Assert.Equal(1, env.RemoveAll(e => e.Str("name") == "Auth__SigningKey"));

        // The settings check says so before anything starts ...
        var problem = Assert.Single(SettingsCheck.Problems(r));
        Assert.Contains("Deployment/refund provides none of Auth__SigningKey, Auth__Authority", problem);

        // ... and the service itself refuses to start with a message naming the key.
        await using var redis = await RedisServer.StartAsync();
        var map = new Remap([redis.ConnectionString], Path.Combine(Path.GetTempPath(), TestIds.New("faceid-rehearsal")), null);
        var environment = Rehearsal.ProcessEnvironment(r, refund, map, (_, _) => TokenKey());
        var failure = await Assert.ThrowsAsync<ServiceStartException>(() => ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Refund"), environment, StartTimeout));
        output.WriteLine(failure.Message);
        Assert.Contains("Auth__SigningKey", failure.Message);
        Assert.Contains("exited with code", failure.Message);
    }

    [Fact]
    public void A_deployment_naming_a_setting_the_code_does_not_know_fails_the_settings_check()
    {
        var r = Kustomize.Render("deploy/k8s/overlays/redis-cluster").Copy();
        var container = r.Single("Deployment", "metering").Node.Maps("spec.template.spec.containers").Single();
        ((List<object?>)container["env"]!).Add(new Dictionary<string, object?> { ["name"] = "Redis__ConnectionStrings", ["value"] = "redis:6379" });
        r.Single("ConfigMap", "faceid-config").Node.Map("data")["EventBus__Transprot"] = "Dapr";
        var problems = SettingsCheck.Problems(r);
        Assert.Contains(problems, p => p.Contains("Deployment/metering sets Redis__ConnectionStrings (env value), a setting the code does not know: Redis__ConnectionStrings: RedisOptions has no property ConnectionStrings", StringComparison.Ordinal));
        // A ConfigMap key reaches every Deployment that reads it.
        Assert.Equal(Repo.AppIds.Count, problems.Count(p => p.Contains("sets EventBus__Transprot (ConfigMap faceid-config (envFrom))", StringComparison.Ordinal)));
    }

    internal static string TokenKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}

/// <summary>
/// What the rehearsal changes in a pod's environment, and only that: Redis endpoints (the names of
/// the in-cluster Redis or cluster nodes) become the local ones in the same order; the container
/// ports (Ports__Grpc, Ports__Http) free loopback ports and Ports__Address 127.0.0.1; absolute
/// paths under a volume mount a folder of the rehearsal; URLs of hosts outside the rendering
/// (the OTLP collector) a closed loopback port; and, where the pod has a Dapr sidecar
/// (dapr.io/enabled), the variables the sidecar injector adds point at the TestKit's sidecar double.
/// </summary>
public sealed record Remap(IReadOnlyList<string> RedisEndpoints, string DataDirectory, string? DaprGrpcEndpoint)
{
    /// <summary>In-cluster Service endpoints ("billing:8080") to the loopback address of that Deployment's process.</summary>
    public IReadOnlyDictionary<string, string> ClusterServices { get; init; } = new Dictionary<string, string>();
}

public sealed class Rehearsal : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly Dictionary<string, ServiceProcess> _services = [];
    private readonly List<ServiceProcess> _others = [];
    private readonly Dictionary<(string, string), string> _external = [];
    private IReadOnlyList<string> _redisEndpoints = [];
    private string _signingKey = "";

    /// <summary>The Redis Cluster of an overlay rehearsal; null for the single Redis.</summary>
    public RedisCluster? Cluster { get; private set; }

    /// <summary>The test value of the Secret faceid-auth's signing-key, which every Deployment got.</summary>
    public string SigningKey => _signingKey;
    private string _data = "";

    private Rehearsal() { }

    public static async Task<Rehearsal> StartAsync(Rendering r, bool cluster, ITestOutputHelper output)
    {
        var rehearsal = new Rehearsal();
        try
        {
            await rehearsal.LaunchAsync(r, cluster, output);
            return rehearsal;
        }
        catch
        {
            await rehearsal.DisposeAsync();
            throw;
        }
    }

    private async Task LaunchAsync(Rendering r, bool cluster, ITestOutputHelper output)
    {
        IReadOnlyList<string> redisEndpoints;
        if (cluster)
        {
            // The overlay's topology: three primaries with a replica each (its services wait for one replica), each
            // node on the overlay's redis.conf as rendered, less what names the pod (RedisClusterOverlay.LocalSettings).
            var redis = await RedisCluster.StartAsync(3, RedisClusterOverlay.NodeTimeoutMs(r), replicasPerMaster: 1, RedisClusterOverlay.LocalArgs(r));
            _owned.Add(redis);
            Cluster = redis;
            redisEndpoints = redis.Nodes.Select(n => n.ConnectionString).ToList();
        }
        else
        {
            var redis = await RedisServer.StartAsync();
            _owned.Add(redis);
            redisEndpoints = [redis.ConnectionString];
        }
        _redisEndpoints = redisEndpoints;
        _data = Path.Combine(Path.GetTempPath(), TestIds.New("faceid-rehearsal"));
        _signingKey = External("faceid-auth", "signing-key");

        DaprSidecarDouble? sidecar = null;
        var starts = new Dictionary<string, Task<ServiceProcess>>();
        foreach (var service in Repo.Services)
        {
            var deployment = r.Single("Deployment", service.AppId);
            var daprEnabled = deployment.Node.Map("spec.template.metadata.annotations").GetValueOrDefault("dapr.io/enabled") as string == "true";
            if (daprEnabled && sidecar is null)
            {
                sidecar = await DaprSidecarDouble.StartAsync();
                _owned.Add(sidecar);
            }
            var map = new Remap(redisEndpoints, _data, daprEnabled ? sidecar!.GrpcEndpoint : null);
            var env = ProcessEnvironment(r, deployment, map, External);
            output.WriteLine($"{r.Directory}: {service.AppId}: {string.Join(" ", env.Where(kv => kv.Value is not null).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={(kv.Key.StartsWith("Auth__", StringComparison.Ordinal) ? "<test key>" : kv.Value)}"))}");
            starts[service.AppId] = ServiceProcess.StartAsync(ServiceProcess.FindServiceDll($"FaceId.{service.Folder}"), env, TimeSpan.FromSeconds(120));
        }
        try
        {
            await Task.WhenAll(starts.Values);
        }
        finally
        {
            foreach (var (appId, start) in starts)
                if (start.IsCompletedSuccessfully) _services[appId] = start.Result;
        }

        // As the sidecar does at start-up: read each app's subscriptions from its HTTP/1.1 port.
        if (sidecar is not null)
        {
            foreach (var (appId, process) in _services)
            {
                var daprEnabled = r.Single("Deployment", appId).Node.Map("spec.template.metadata.annotations").GetValueOrDefault("dapr.io/enabled") as string == "true";
                if (daprEnabled) await sidecar.SubscribeAsync(new HttpClient { BaseAddress = process.HttpAddress });
            }
        }
    }

    /// <summary>Values of Secrets created out of band (the token signing key): one test value per key.</summary>
    private string External(string secret, string key)
    {
        if (!_external.TryGetValue((secret, key), out var value)) _external[(secret, key)] = value = RehearsalTests.TokenKey();
        return value;
    }

    /// <summary>
    /// Starts the console from its rendered Deployment (no sidecar), its service addresses mapped to
    /// the running services' gRPC ports, and waits until its health endpoint answers.
    /// </summary>
    public async Task<ServiceProcess> StartConsoleAsync(Rendering r, ITestOutputHelper output)
    {
        var deployment = r.Single("Deployment", Repo.Console.AppId);
        var grpcPort = Repo.ContainerPorts.Grpc;
        var map = new Remap(_redisEndpoints, _data, null)
        {
            ClusterServices = _services.ToDictionary(s => $"{s.Key}:{grpcPort}", s => s.Value.Address.ToString().TrimEnd('/')),
        };
        var env = ProcessEnvironment(r, deployment, map, External);
        output.WriteLine($"{r.Directory}: console: {string.Join(" ", env.Where(kv => kv.Value is not null).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={(kv.Key.StartsWith("Auth__", StringComparison.Ordinal) ? "<test key>" : kv.Value)}"))}");
        var console = ServiceProcess.Launch(ServiceProcess.FindServiceDll($"FaceId.{Repo.Console.Folder}"), env);
        _others.Add(console);
        using var http = new HttpClient { BaseAddress = console.HttpAddress, Timeout = TimeSpan.FromSeconds(2) };
        // Done when it answers or when it has exited: an exit fails at once, with the process's output.
        try
        {
            await Eventually.AssertAsync(async () => console.HasExited || (await http.GetAsync("/healthz")).IsSuccessStatusCode,
                TimeSpan.FromSeconds(60), "the console answers /healthz");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}{Environment.NewLine}{console.Output}");
        }
        if (console.HasExited) throw new Xunit.Sdk.XunitException($"the console exited with code {console.ExitCode}:{Environment.NewLine}{console.Output}");
        return console;
    }

    /// <summary>
    /// The environment of <c>dotnet &lt;dll&gt;</c> for a Deployment: the container's environment
    /// with <paramref name="map"/> applied; every variable this test process has that the pod would
    /// not (configuration keys, Dapr and OTLP variables, the TestKit's own signing key) is removed.
    /// </summary>
    public static Dictionary<string, string?> ProcessEnvironment(Rendering r, K8sObject deployment, Remap map, Func<string, string, string> external)
    {
        var container = deployment.Node.Maps("spec.template.spec.containers").Single();
        var ports = container.Maps("ports").ToDictionary(p => p.Str("containerPort") ?? "", p => p.Str("name") ?? "");
        var mounts = container.Maps("volumeMounts").Select(m => m.Str("mountPath")!.TrimEnd('/')).ToList();
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var inherited in Environment.GetEnvironmentVariables().Keys.OfType<string>())
        {
            if (inherited.Contains("__", StringComparison.Ordinal) || inherited.StartsWith("DAPR_", StringComparison.Ordinal) || inherited.StartsWith("OTEL_", StringComparison.Ordinal)
                || inherited.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || inherited == "DOTNET_ENVIRONMENT")
                result[inherited] = null;
        }
        result["Auth__SigningKey"] = null; // ServiceProcess adds the TestKit's key unless told otherwise

        var freePorts = new Dictionary<string, string>();
        foreach (var v in ContainerEnvironment.Resolve(r, deployment, external))
        {
            var value = v.Value;
            if (v.Name == "Redis__ConnectionString") value = RemapRedis(value, map.RedisEndpoints, deployment.Name);
            else if (v.Name == "Ports__Address") value = "127.0.0.1";
            else if (v.Name.StartsWith("Ports__", StringComparison.Ordinal) && ports.ContainsKey(value))
                value = freePorts.TryGetValue(value, out var p) ? p : freePorts[value] = FreePort.Next().ToString();
            else if (value.StartsWith('/') && mounts.FirstOrDefault(m => value == m || value.StartsWith(m + "/", StringComparison.Ordinal)) is not null)
                value = Path.Combine(map.DataDirectory, value.TrimStart('/'));
            else if (Uri.TryCreate(value, UriKind.Absolute, out var service) && map.ClusterServices.TryGetValue($"{service.Host}:{service.Port}", out var local))
                value = local; // an in-cluster Service (the console's service addresses): its Deployment's process
            else if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !uri.IsLoopback)
                value = $"{uri.Scheme}://127.0.0.1:{FreePort.Next()}{uri.PathAndQuery.TrimEnd('/')}"; // nothing listens: exports fail as with no collector
            result[v.Name] = value;
        }
        if (map.DaprGrpcEndpoint is { } dapr)
        {
            // What the sidecar injector adds to the app container, pointing at the sidecar double.
            result["DAPR_GRPC_ENDPOINT"] = dapr;
            result["DAPR_GRPC_PORT"] = new Uri(dapr).Port.ToString();
        }
        return result;
    }

    private static string RemapRedis(string value, IReadOnlyList<string> local, string appId)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var endpoints = parts.Where(p => !p.Contains('=')).ToList();
        if (endpoints.Count != local.Count)
            throw new Xunit.Sdk.XunitException($"Deployment/{appId}: Redis__ConnectionString names {endpoints.Count} endpoint(s) ({value}); the rehearsal runs {local.Count} Redis node(s)");
        var i = 0;
        return string.Join(",", parts.Select(p => p.Contains('=') ? p : local[i++]));
    }

    /// <summary>Runs <c>dotnet FaceId.Demo.dll slice</c> against the five services with the signing key the Deployments got.</summary>
    public async Task<(int Exit, string Output)> RunDemoSliceAsync()
    {
        var dll = ServiceProcess.FindServiceDll("FaceId.Demo");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("slice");
        start.ArgumentList.Add("--ports");
        start.ArgumentList.Add(string.Join(",", _services.Select(s => $"{s.Key}={s.Value.GrpcPort}")));
        start.ArgumentList.Add("--timeout-seconds");
        start.ArgumentList.Add("60");
        start.Environment["Auth__SigningKey"] = _signingKey;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"the demo slice did not finish in 90 s:{Environment.NewLine}{await stdout}{await stderr}");
        }
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    public string Logs() => string.Join(Environment.NewLine, _services.Select(s => $"---- {s.Key}{Environment.NewLine}{Tail(s.Value.Output, 4000)}"));

    private static string Tail(string text, int chars) => text.Length <= chars ? text : "…" + text[^chars..];

    public async ValueTask DisposeAsync()
    {
        foreach (var other in _others) await other.DisposeAsync();
        foreach (var service in _services.Values) await service.DisposeAsync();
        foreach (var owned in Enumerable.Reverse(_owned)) await owned.DisposeAsync();
        if (_data.Length > 0)
        {
            try { Directory.Delete(_data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
