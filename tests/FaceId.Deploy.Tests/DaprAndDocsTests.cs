using System.Globalization;
using System.Text.RegularExpressions;
using FaceId.Contracts;
using FaceId.EventBus;
using FaceId.EventBus.Transports;
using Xunit;

namespace FaceId.Deploy.Tests;

/// <summary>
/// The Dapr resources (pub/sub component, resiliency, tracing configuration) and the event docs
/// agree with the event bus: component name, type, consumer group, timings, dead-letter topics,
/// topic names.
/// </summary>
public sealed partial class DaprAndDocsTests
{
    private static readonly EventBusOptions Defaults = new();

    [Fact]
    public void The_pubsub_component_is_the_one_the_event_bus_names_with_its_numbers()
    {
        var dapr = Kustomize.Render("deploy/dapr");
        var component = Assert.Single(dapr.OfKind("Component"));
        Assert.Equal("dapr.io", component.Group);
        Assert.Equal(Defaults.PubSubName, component.Name);
        Assert.Equal("pubsub.redis", component.Node.Str("spec.type"));
        Assert.Equal(Repo.AppIds, component.Node.Strings("scopes").Order(StringComparer.Ordinal));
        var metadata = Metadata(component);
        // Consumer group = app id, as the Redis Streams transport does; the numbers of EventBusOptions.
        Assert.Equal("{appID}", metadata["consumerID"]);
        Assert.Equal(Defaults.ProcessingTimeoutMs.ToString(CultureInfo.InvariantCulture), metadata["processingTimeout"]);
        Assert.Equal(Defaults.RedeliverIntervalMs.ToString(CultureInfo.InvariantCulture), metadata["redeliverInterval"]);
        Assert.Equal(Defaults.StreamMaxLength.ToString(CultureInfo.InvariantCulture), metadata["maxLenApprox"]);
        Assert.Equal(Defaults.ReadBatchSize.ToString(CultureInfo.InvariantCulture), metadata["queueDepth"]);
        Assert.Equal("node", metadata["redisType"]);
        // Self-hosted sidecars (tye, dapr run) read it as is: the Redis of tye.yaml.
        Assert.Equal("127.0.0.1:6379", metadata["redisHost"]);
    }

    [Fact]
    public void The_cluster_overlay_answers_a_write_after_one_replica_holds_it_and_the_base_does_not_wait()
    {
        var config = Kustomize.Render("deploy/k8s/overlays/redis-cluster").Single("ConfigMap", "faceid-config").Node.Map("data");
        Assert.Equal("1", config["Redis__ReplicaAcks"]);
        Assert.True(int.Parse((string)config["Redis__ReplicaAckTimeoutMs"]!) < 3_000, "below Redis:OperationTimeoutMs (3000)");
        Assert.False(Kustomize.Render("deploy/k8s").Single("ConfigMap", "faceid-config").Node.Map("data").ContainsKey("Redis__ReplicaAcks"));
    }

    [Fact]
    public void On_kubernetes_the_component_reads_redis_from_the_secret_and_the_overlay_switches_it_to_cluster()
    {
        foreach (var directory in new[] { "deploy/k8s", "deploy/k8s/overlays/redis-cluster" })
        {
            var r = Kustomize.Render(directory);
            var component = r.Single("Component", Defaults.PubSubName);
            Assert.Equal("kubernetes", component.Node.Str("auth.secretStore"));
            foreach (var name in new[] { "redisHost", "redisPassword" })
            {
                var item = Assert.Single(component.Node.Maps("spec.metadata"), m => m.Str("name") == name);
                Assert.Null(item.Str("value"));
                var secret = r.Single("Secret", item.Str("secretKeyRef.name")!);
                Assert.True(secret.Node.Map("stringData").ContainsKey(item.Str("secretKeyRef.key")!), $"{directory}: Secret/{secret.Name} has the key {item.Str("secretKeyRef.key")}");
            }
            var cluster = directory.EndsWith("redis-cluster", StringComparison.Ordinal);
            Assert.Equal(cluster ? "cluster" : "node", Metadata(component)["redisType"]);
            Assert.Equal(!cluster, r.Find("StatefulSet", "redis") is not null);
            Assert.Equal(!cluster, r.Find("Service", "redis") is not null);
            var secretData = r.Single("Secret", "faceid-redis").Node.Map("stringData");
            if (cluster)
            {
                // The services and the sidecars see the same six nodes (three primaries, a replica each).
                var nodes = ((string)secretData["redisHost"]!).Split(',');
                Assert.Equal(6, nodes.Length);
                Assert.All(nodes, n => Assert.Contains(n, (string)secretData["Redis__ConnectionString"]!));
            }
            else
            {
                // The in-cluster Redis: Service "redis" on its port.
                var port = r.Single("Service", "redis").Node.Maps("spec.ports").Single().Str("port");
                Assert.Equal($"redis:{port}", secretData["redisHost"]);
                Assert.Equal($"redis:{port}", secretData["Redis__ConnectionString"]);
            }
        }
    }

    [Fact]
    public void Resiliency_dead_letters_after_MaxDeliveryAttempts_within_the_processing_timeout()
    {
        var dapr = Kustomize.Render("deploy/dapr");
        var resiliency = Assert.Single(dapr.OfKind("Resiliency")).Node;
        Assert.Equal(Repo.AppIds, resiliency.Strings("scopes").Order(StringComparer.Ordinal));
        var target = resiliency.Map("spec.targets.components").GetValueOrDefault(Defaults.PubSubName);
        Assert.NotNull(target);
        var retryName = target.Str("inbound.retry")!;
        var timeoutName = target.Str("inbound.timeout")!;
        var retry = resiliency.Map("spec.policies.retries")[retryName];
        var retries = int.Parse(retry.Str("maxRetries")!, CultureInfo.InvariantCulture);
        Assert.Equal(Defaults.MaxDeliveryAttempts, retries + 1);
        var timeout = Duration(resiliency.Map("spec.policies.timeouts")[timeoutName] as string);
        var wait = Duration(retry.Str("duration"));
        var budget = timeout * (retries + 1) + wait * retries;
        Assert.True(budget < TimeSpan.FromMilliseconds(Defaults.ProcessingTimeoutMs),
            $"{Defaults.MaxDeliveryAttempts} deliveries take up to {budget.TotalSeconds} s, more than processingTimeout ({Defaults.ProcessingTimeoutMs} ms): events would be reclaimed before they are dead-lettered");
        Assert.NotNull(target.At("outbound.retry"));
    }

    [Fact]
    public void The_tracing_configuration_exists_under_the_name_the_pods_use()
    {
        var dapr = Kustomize.Render("deploy/dapr");
        var configuration = Assert.Single(dapr.OfKind("Configuration"));
        Assert.Equal("faceid-tracing", configuration.Name);
        Assert.NotNull(configuration.Node.Str("spec.tracing.samplingRate"));
        // The sidecars export to the collector the services export to.
        var configMap = Kustomize.Render("deploy/k8s").Single("ConfigMap", "faceid-config").Node.Map("data");
        var otlp = new Uri((string)configMap["OTEL_EXPORTER_OTLP_ENDPOINT"]!);
        Assert.Equal($"{otlp.Host}:{otlp.Port}", configuration.Node.Str("spec.tracing.otel.endpointAddress"));
    }

    [Fact]
    public void The_configmap_carries_the_event_bus_numbers_of_the_component()
    {
        var r = Kustomize.Render("deploy/k8s");
        var data = r.Single("ConfigMap", "faceid-config").Node.Map("data");
        var metadata = Metadata(r.Single("Component", Defaults.PubSubName));
        Assert.Equal("Dapr", data["EventBus__Transport"]);
        Assert.Equal(Defaults.PubSubName, data["EventBus__PubSubName"]);
        Assert.Equal(metadata["processingTimeout"], data["EventBus__ProcessingTimeoutMs"]);
        Assert.Equal(metadata["redeliverInterval"], data["EventBus__RedeliverIntervalMs"]);
        Assert.Equal(metadata["maxLenApprox"], data["EventBus__StreamMaxLength"]);
        Assert.Equal(Defaults.MaxDeliveryAttempts.ToString(CultureInfo.InvariantCulture), data["EventBus__MaxDeliveryAttempts"]);
    }

    [Fact]
    public void Every_topic_is_in_the_event_docs_and_dead_letter_topics_are_named_as_the_code_names_them()
    {
        var events = Repo.Read("docs/events.md");
        foreach (var topic in EventTopics.All)
            Assert.True(events.Contains($"`{topic}`", StringComparison.Ordinal), $"docs/events.md does not document the topic {topic}");

        // DeadLetters.StreamOf(T) = T + suffix; the docs and the Dapr files name "<topic>" + the same suffix.
        var suffix = DeadLetters.StreamOf("T")[1..];
        Assert.StartsWith(".", suffix);
        Assert.Contains($"`T{suffix}`", events);
        Assert.Contains($"`<topic>{suffix}`", events);
        Assert.Contains($"<topic>{suffix}", Repo.Read("deploy/dapr/components/resiliency.yaml"));
        Assert.Contains($"<topic>{suffix}", Repo.Read("deploy/README.md"));
        // Dapr subscriptions declare the same dead-letter topic as the Redis Streams transport uses.
        Assert.Contains("DeadLetterTopic = DeadLetters.StreamOf(topic)", Repo.Read("services/BuildingBlocks/FaceId.EventBus/Transports/DaprSubscriptionEndpoints.cs"));
        // Every concrete dead-letter stream the docs mention is the dead-letter stream of a real topic.
        foreach (var file in new[] { "docs/events.md", "deploy/README.md", "README.md", "deploy/dapr/components/resiliency.yaml" })
        {
            foreach (Match m in DeadLetterName().Matches(Repo.Read(file)))
                Assert.True(EventTopics.All.Any(t => DeadLetters.StreamOf(t) == m.Value), $"{file} names the dead-letter stream {m.Value}, which is not DeadLetters.StreamOf of any topic");
        }
    }

    [Fact]
    public void Tye_runs_the_web_console_against_the_documented_grpc_ports_of_the_five_services()
    {
        var tye = Yaml.LoadFile(Repo.PathOf("tye.yaml")).Single();
        var console = tye.Maps("services").Single(s => s.Str("name") == "console");
        Assert.Equal("services/Console/FaceId.Console.csproj", console.Str("project"));
        Assert.True(File.Exists(Repo.PathOf(console.Str("project")!)));
        var env = console.Maps("env").ToDictionary(e => e.Str("name")!, e => e.Str("value"));
        Assert.Equal(console.Maps("bindings").Single().Str("port"), env["Ports__Http"]);
        Assert.True(env.ContainsKey("Auth__SigningKey"));
        foreach (var service in Repo.Services)
            Assert.Equal($"http://127.0.0.1:{Repo.LocalPorts("docs/api.md")[service.AppId].Grpc}", env[$"Services__{service.Folder}"]);
    }

    [Fact]
    public void Tye_runs_the_five_service_projects_with_the_documented_ports_and_the_dapr_components()
    {
        var tye = Yaml.LoadFile(Repo.PathOf("tye.yaml")).Single();
        var documented = Repo.LocalPorts("docs/api.md");
        Assert.Equal(Repo.AppIds, documented.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(documented, Repo.LocalPorts("README.md"));

        var projects = tye.Maps("services").Where(s => s.Str("project") is not null && s.Str("name") != "console").ToList();
        Assert.Equal(Repo.AppIds, projects.Select(p => p.Str("name")).Order(StringComparer.Ordinal));
        foreach (var s in projects)
        {
            var appId = s.Str("name")!;
            var service = Repo.Services.Single(x => x.AppId == appId);
            Assert.Equal(service.Project, s.Str("project"));
            Assert.True(File.Exists(Repo.PathOf(s.Str("project")!)), $"tye.yaml: {s.Str("project")} exists");
            var bindings = s.Maps("bindings").ToDictionary(b => b.Str("name") ?? "", b => b);
            Assert.Equal(documented[appId].Grpc, bindings["grpc"].Str("port"));
            Assert.Equal("http2", bindings["grpc"].Str("protocol"));
            Assert.Equal(documented[appId].Http, bindings["http"].Str("port"));
            Assert.Equal("http", bindings["http"].Str("protocol"));
            // The Dapr extension calls the app on its first http binding: it must be the HTTP/1.1 port.
            Assert.Equal("http", s.Maps("bindings").First(b => b.Str("protocol") is "http").Str("name"));
            var env = s.Maps("env").ToDictionary(e => e.Str("name")!, e => e.Str("value"));
            Assert.Equal(documented[appId].Grpc, env["Ports__Grpc"]);
            Assert.Equal(documented[appId].Http, env["Ports__Http"]);
            Assert.Equal("Dapr", env["EventBus__Transport"]);
            Assert.Equal(Defaults.PubSubName, env["EventBus__PubSubName"]);
            Assert.Equal(Metadata(Kustomize.Render("deploy/dapr").Single("Component", Defaults.PubSubName))["redisHost"], env["Redis__ConnectionString"]);
        }

        var dapr = Assert.Single(tye.Maps("extensions"), e => e.Str("name") == "dapr");
        var components = Repo.PathOf(dapr.Str("components-path")!);
        Assert.True(Directory.Exists(components), $"tye.yaml: components-path {dapr.Str("components-path")} exists");
        var loaded = Directory.EnumerateFiles(components, "*.yaml").SelectMany(Yaml.LoadFile).OfType<Dictionary<string, object?>>().Select(n => new K8sObject(n)).ToList();
        Assert.Contains(loaded, o => o.Kind == "Component" && o.Name == Defaults.PubSubName);
        Assert.Contains(loaded, o => o.Kind == "Resiliency");
        var redis = Assert.Single(tye.Maps("services"), s => s.Str("name") == "redis");
        Assert.Equal("6379", redis.Maps("bindings").Single().Str("port"));
    }

    private static Dictionary<string, string?> Metadata(K8sObject component) =>
        component.Node.Maps("spec.metadata").ToDictionary(m => m.Str("name")!, m => m.Str("value"));

    private static TimeSpan Duration(string? text)
    {
        var m = Regex.Match(text ?? "", @"^(\d+)(ms|s|m)$");
        Assert.True(m.Success, $"'{text}' is a duration like 4s");
        var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "ms" => TimeSpan.FromMilliseconds(n), "s" => TimeSpan.FromSeconds(n), _ => TimeSpan.FromMinutes(n) };
    }

    [GeneratedRegex(@"faceid\.[a-z0-9.-]+\.v\d+\.deadletter")]
    private static partial Regex DeadLetterName();
}
