using FaceId.EventBus;
using FaceId.Redis;
using FaceId.ServiceDefaults.HttpJson;
using FaceId.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace FaceId.ServiceDefaults;

/// <summary>What every FaceId service host gets, so each Program.cs stays a few lines.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Kestrel ports, TimeProvider, Redis (validated at start), OpenTelemetry (OTLP when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set), gRPC with the error interceptor, health and reflection,
    /// and the event bus; returns the event-bus builder for the service's subscriptions.
    /// </summary>
    public static EventBusBuilder AddServiceDefaults(this WebApplicationBuilder builder, string appId)
    {
        ConfigureKestrel(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddFaceIdRedis();
        AddTelemetry(builder, appId);

        builder.Services.AddFaceIdSecurity(builder.Configuration);
        builder.Services.AddGrpc(o =>
        {
            // Errors are mapped to statuses around everything, the caller check included (it reads
            // sub-account owners from Redis); over-long strings are refused before anything reads the
            // request (even before the caller is checked); then who may call is checked.
            o.Interceptors.Add<DomainExceptionInterceptor>();
            o.Interceptors.Add<RequestBoundsInterceptor>();
            o.Interceptors.Add<AuthorizationInterceptor>();
            o.MaxReceiveMessageSize = 16 * 1024 * 1024;
            o.EnableDetailedErrors = false;
        }).AddHttpJson(appId);
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<RedisHealthCheck>("redis");
        builder.Services.AddSingleton<Operations.EventBusOperations>();
        return builder.Services.AddFaceIdEventBus(builder.Configuration, appId);
    }

    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.UseMalformedRequestAsInvalidArgument();
        app.UseHttpJson();
        app.UseFaceIdSecurity();
        app.UseHttpJsonRequestChecks();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapGrpcService<DiagnosticsGrpcService>();
        app.MapGrpcService<Operations.EventOperationsGrpcService>();
        app.MapFaceIdEventBus();
        MapPrometheus(app);
        return app;
    }

    /// <summary>Configuration key that turns on the Prometheus scrape endpoint (<c>GET /metrics</c> on Ports:Http).</summary>
    public const string PrometheusKey = "Telemetry:Prometheus";

    private static void MapPrometheus(WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>(PrometheusKey)) return;
        var endpoint = app.MapPrometheusScrapingEndpoint();
        // Only on the HTTP/1.1 port (Prometheus scrapes HTTP/1.1), never on the gRPC port.
        if (app.Configuration.GetValue<int?>("Ports:Http") is { } http) endpoint.RequireHost($"*:{http}");
    }

    /// <summary>
    /// Runs the host; a configuration or Redis problem at start-up ends it with one clear line on
    /// stderr and exit code 2 instead of a stack trace.
    /// </summary>
    public static async Task<int> RunServiceAsync(this WebApplication app)
    {
        // Read before RunAsync: the environment is disposed with the host.
        var name = app.Environment.ApplicationName;
        try
        {
            await app.RunAsync();
            return 0;
        }
        catch (Exception e) when (StartupProblem(e) is { } message)
        {
            await Console.Error.WriteLineAsync($"{name}: cannot start: {message}");
            return 2;
        }
    }

    private static string? StartupProblem(Exception e) => e switch
    {
        FaceId.Common.StartupException s => s.Message,
        OptionsValidationException o => string.Join("; ", o.Failures),
        AggregateException a => a.InnerExceptions.Select(StartupProblem).FirstOrDefault(m => m is not null),
        _ => null,
    };

    /// <summary>
    /// Ports:Grpc is an HTTP/2-only cleartext port (gRPC with prior knowledge); Ports:Http serves
    /// HTTP/1.1 for Dapr's callbacks. Without either, ASP.NET's own URL settings apply.
    /// </summary>
    private static void ConfigureKestrel(WebApplicationBuilder builder)
    {
        var grpcPort = builder.Configuration.GetValue<int?>("Ports:Grpc");
        var httpPort = builder.Configuration.GetValue<int?>("Ports:Http");
        if (grpcPort is null && httpPort is null) return;
        var address = System.Net.IPAddress.Parse(builder.Configuration["Ports:Address"] ?? "127.0.0.1");
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (grpcPort is { } g) k.Listen(address, g, l => l.Protocols = HttpProtocols.Http2);
            if (httpPort is { } h) k.Listen(address, h, l => l.Protocols = HttpProtocols.Http1);
        });
    }

    private static void AddTelemetry(WebApplicationBuilder builder, string appId)
    {
        // Quiet by default on the hot path: per-request framework logs only when asked for.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc.AspNetCore", LogLevel.Warning);
        // A gRPC service without a generated descriptor (a hand-written one, e.g. a test probe) simply
        // has no HTTP/JSON routes; transcoding would log that as a warning with a stack trace.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Grpc.JsonTranscoding.Internal.Binding", LogLevel.Error);
        // A start-up failure is reported once, clearly, by RunServiceAsync.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
        });
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName: appId, serviceNamespace: "faceid"))
            .WithTracing(t => t
                .AddSource("FaceId.*")
                .AddAspNetCoreInstrumentation(o => o.Filter = http =>
                    !http.Request.Path.StartsWithSegments("/grpc.health.v1.Health") && !http.Request.Path.StartsWithSegments("/metrics"))
                .AddGrpcClientInstrumentation())
            .WithMetrics(m =>
            {
                m.AddMeter("FaceId.*")
                    .AddMeter("System.Runtime") // GC, thread pool, exceptions: built into .NET 9+
                    .AddAspNetCoreInstrumentation();
                if (builder.Configuration.GetValue<bool>(PrometheusKey)) m.AddPrometheusExporter();
            });
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();
    }

    /// <summary>
    /// SERVING when Redis answers a PING within <see cref="PingBound"/>, NOT_SERVING otherwise: down
    /// (the connection fails fast), loading its data (LOADING) or stalled (the bound). Health answers
    /// within a second whatever Redis does, inside every probe's timeout (deploy/k8s: 2 s and more).
    /// </summary>
    private sealed class RedisHealthCheck(IDatabase redis) : IHealthCheck
    {
        public static readonly TimeSpan PingBound = TimeSpan.FromMilliseconds(400);

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            Task<TimeSpan>? ping = null;
            try
            {
                ping = redis.PingAsync();
                var latency = await ping.WaitAsync(PingBound, cancellationToken);
                return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:F1} ms");
            }
            catch (TimeoutException) when (ping is { IsCompleted: false })
            {
                // The PING still ends (answer or timeout) on its own; its outcome is observed here, not raised later.
                _ = ping.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                return HealthCheckResult.Unhealthy($"Redis did not answer PING within {PingBound.TotalMilliseconds:F0} ms");
            }
            catch (Exception e)
            {
                // No exception attached: every probe of an outage logs this result, and its stack trace says nothing more.
                return HealthCheckResult.Unhealthy($"Redis is unreachable ({StoreFaults.TransientCondition(e) ?? e.GetType().Name})");
            }
        }
    }
}
