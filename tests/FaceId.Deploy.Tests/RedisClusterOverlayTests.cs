using Xunit;

namespace FaceId.Deploy.Tests;

/// <summary>
/// The redis-cluster overlay runs its Redis Cluster itself: six nodes, one per machine (hard anti-affinity), formed
/// into three primaries with one replica each by a Job, every node on appendonly/appendfsync always. The base keeps
/// its single Redis and has none of it.
/// </summary>
public sealed class RedisClusterOverlayTests
{
    private static Rendering Overlay => Kustomize.Render(RedisClusterOverlay.Directory);

    private static Dictionary<string, object?> PodLabels(Rendering r) =>
        r.Single("StatefulSet", RedisClusterOverlay.StatefulSet).Node.Map("spec.template.metadata.labels");

    private static void SelectsThePods(Rendering r, Dictionary<string, object?> matchLabels, string where)
    {
        var pods = PodLabels(r);
        Assert.NotEmpty(matchLabels);
        Assert.All(matchLabels, kv => Assert.True(Equals(pods.GetValueOrDefault(kv.Key), kv.Value), $"{where}: {kv.Key}={kv.Value} matches the Redis pods' labels"));
    }

    [Fact]
    public void The_overlay_runs_six_redis_nodes_one_per_machine_on_the_image_and_conventions_of_the_base_redis()
    {
        var r = Overlay;
        var set = r.Single("StatefulSet", RedisClusterOverlay.StatefulSet).Node;
        Assert.Equal("6", set.Str("spec.replicas"));
        Assert.Equal("redis-cluster-headless", set.Str("spec.serviceName"));
        SelectsThePods(r, set.Map("spec.selector.matchLabels"), "the StatefulSet's selector");

        // A primary and its replica never share a machine: required (not preferred) anti-affinity against its own pods.
        var rule = Assert.Single(set.Maps("spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"));
        Assert.Equal("kubernetes.io/hostname", rule.Str("topologyKey"));
        SelectsThePods(r, rule.Map("labelSelector.matchLabels"), "the anti-affinity");

        // Image, pod and container security, probes, resources and volume as the base's single Redis.
        var baseSet = Kustomize.Render("deploy/k8s").Single("StatefulSet", "redis").Node;
        var container = Assert.Single(set.Maps("spec.template.spec.containers"));
        var baseContainer = baseSet.Maps("spec.template.spec.containers").Single();
        foreach (var field in new[] { "image", "securityContext", "readinessProbe", "livenessProbe", "resources" })
            Assert.True(Yaml.DeepEquals(baseContainer.At(field), container.At(field)), $"the cluster's container {field} is the base Redis's");
        Assert.True(Yaml.DeepEquals(baseSet.At("spec.template.spec.securityContext"), set.At("spec.template.spec.securityContext")), "pod securityContext as the base Redis");
        Assert.True(Yaml.DeepEquals(baseSet.At("spec.volumeClaimTemplates"), set.At("spec.volumeClaimTemplates")), "volumeClaimTemplates as the base Redis");

        // redis.conf from the ConfigMap; each pod announces its stable name under the headless Service.
        var config = set.Maps("spec.template.spec.volumes").Single(v => v.Str("configMap.name") == RedisClusterOverlay.ConfigMap).Str("name");
        var configDir = container.Maps("volumeMounts").Single(m => m.Str("name") == config).Str("mountPath");
        var args = container.Strings("args").ToList();
        Assert.Equal(["redis-server", $"{configDir}/redis.conf"], args.Take(2));
        Assert.Equal("$(POD_NAME).redis-cluster-headless", args[args.IndexOf("--cluster-announce-hostname") + 1]);
        Assert.Equal("metadata.name", container.Maps("env").Single(e => e.Str("name") == "POD_NAME").Str("valueFrom.fieldRef.fieldPath"));
        var ports = container.Maps("ports").ToDictionary(p => p.Str("name") ?? "", p => p.Str("containerPort"));
        Assert.Equal("6379", ports["redis"]);
        Assert.Equal("16379", ports["cluster-bus"]);

        // Voluntary evictions take one node at a time.
        var pdb = r.Single("PodDisruptionBudget", RedisClusterOverlay.StatefulSet).Node;
        Assert.Equal("1", pdb.Str("spec.maxUnavailable"));
        SelectsThePods(r, pdb.Map("spec.selector.matchLabels"), "the PodDisruptionBudget");
    }

    [Fact]
    public void Every_node_runs_cluster_mode_with_every_write_fsynced_and_the_base_redis_settings()
    {
        var r = Overlay;
        var settings = RedisClusterOverlay.Settings(r);
        Assert.Equal(settings.Count, settings.Select(s => s.Name).Distinct().Count());
        string Get(string name) => RedisClusterOverlay.Setting(r, name);
        Assert.Equal("yes", Get("cluster-enabled"));
        Assert.Equal("yes", Get("appendonly"));
        Assert.Equal("always", Get("appendfsync"));
        Assert.Equal("", Get("save"));
        Assert.Equal("hostname", Get("cluster-preferred-endpoint-type"));
        Assert.InRange(RedisClusterOverlay.NodeTimeoutMs(r), 1000, 15000);
        Assert.Equal("6379", Get("port"));

        // The nodes file is on the data volume: a restarted pod keeps its identity and role.
        var container = r.Single("StatefulSet", RedisClusterOverlay.StatefulSet).Node.Maps("spec.template.spec.containers").Single();
        var data = container.Maps("volumeMounts").Single(m => m.Str("name") == "data").Str("mountPath")!;
        Assert.Equal(data, Get("dir"));
        Assert.StartsWith(data + "/", Get("cluster-config-file"));

        // What the base's Redis sets on its command line, the cluster sets too (except fsync: always instead of everysec).
        var baseArgs = Kustomize.Render("deploy/k8s").Single("StatefulSet", "redis").Node.Maps("spec.template.spec.containers").Single().Strings("args").Skip(1).ToList();
        Assert.Equal(0, baseArgs.Count % 2);
        for (var i = 0; i < baseArgs.Count; i += 2)
        {
            var name = baseArgs[i].TrimStart('-');
            Assert.Equal(name == "appendfsync" ? "always" : baseArgs[i + 1], Get(name));
        }
    }

    [Fact]
    public void The_headless_service_and_the_services_connection_string_name_the_six_nodes()
    {
        var r = Overlay;
        var service = r.Single("Service", "redis-cluster-headless").Node;
        Assert.Equal("None", service.Str("spec.clusterIP"));
        Assert.Equal("true", service.Str("spec.publishNotReadyAddresses"));
        SelectsThePods(r, service.Map("spec.selector"), "the headless Service");
        Assert.Equal([("redis", "6379", "redis"), ("cluster-bus", "16379", "cluster-bus")],
            service.Maps("spec.ports").Select(p => (p.Str("name"), p.Str("port"), p.Str("targetPort"))));

        // The services' and the sidecars' node list is exactly the StatefulSet's pods under this Service.
        var nodes = Enumerable.Range(0, 6).Select(i => $"{RedisClusterOverlay.StatefulSet}-{i}.redis-cluster-headless:6379").ToList();
        var secret = r.Single("Secret", "faceid-redis").Node;
        Assert.Equal(nodes, secret.Str("stringData.Redis__ConnectionString")!.Split(','));
        Assert.Equal(nodes, secret.Str("stringData.redisHost")!.Split(','));
    }

    [Fact]
    public void A_job_forms_three_primaries_with_a_replica_each_only_when_the_cluster_is_not_formed()
    {
        var job = Overlay.Single("Job", "redis-cluster-create").Node;
        Assert.InRange(int.Parse(job.Str("spec.backoffLimit")!), 1, 10);
        Assert.NotNull(job.Str("spec.ttlSecondsAfterFinished"));
        Assert.NotNull(job.Str("spec.activeDeadlineSeconds"));
        var container = Assert.Single(job.Maps("spec.template.spec.containers"));
        var script = string.Join('\n', container.Strings("args"));
        Assert.Contains("ping", script);
        Assert.Contains("cluster_known_nodes", script);
        Assert.Matches(@"redis-cli --cluster create \$nodes --cluster-replicas 1 --cluster-yes", script);
        Assert.Contains("for i in 0 1 2 3 4 5; do nodes=\"$nodes redis-cluster-$i.redis-cluster-headless:6379\"; done", script);
        Assert.Contains("cluster_state:ok", script);
        Assert.Equal(Kustomize.Render("deploy/k8s").Single("StatefulSet", "redis").Node.Maps("spec.template.spec.containers").Single().Str("image"), container.Str("image"));
    }

    [Fact]
    public void The_overlay_runs_no_single_redis_and_the_base_no_cluster()
    {
        // The base's single Redis is deleted by the overlay (DaprAndDocsTests): the cluster is its only Redis.
        Assert.Equal([RedisClusterOverlay.StatefulSet], Overlay.OfKind("StatefulSet").Select(s => s.Name));

        var platform = Kustomize.Render("deploy/k8s");
        Assert.Equal(["redis"], platform.OfKind("StatefulSet").Select(s => s.Name));
        Assert.NotNull(platform.Find("Service", "redis"));
        Assert.Empty(platform.OfKind("Job"));
        Assert.Empty(platform.OfKind("PodDisruptionBudget"));
        Assert.Null(platform.Find("Service", "redis-cluster-headless"));
        Assert.Null(platform.Find("ConfigMap", RedisClusterOverlay.ConfigMap));
    }

    [Fact]
    public void The_rehearsal_runs_the_overlays_redis_conf_except_what_names_the_pod()
    {
        var local = RedisClusterOverlay.LocalSettings(Overlay).ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal("yes", local["appendonly"]);
        Assert.Equal("always", local["appendfsync"]);
        Assert.Equal("", local["save"]);
        Assert.Equal("noeviction", local["maxmemory-policy"]);
        foreach (var podOnly in new[] { "port", "dir", "cluster-config-file", "cluster-preferred-endpoint-type" })
            Assert.DoesNotContain(podOnly, local.Keys);
        Assert.Equal(["--appendonly", "yes"], RedisClusterOverlay.LocalArgs(Overlay).SkipWhile(a => a != "--appendonly").Take(2));
    }
}
