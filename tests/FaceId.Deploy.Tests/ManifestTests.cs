using Xunit;

namespace FaceId.Deploy.Tests;

/// <summary>
/// deploy/ parses and renders, and its Kubernetes objects match the code: one Deployment and one
/// Service per app id, the image, ports, probes and Dapr annotations of each, the configuration and
/// secrets they read, writable volumes for what the services write.
/// </summary>
public sealed class ManifestTests
{
    /// <summary>The kustomizations CI renders: the platform, its Redis Cluster overlay, the Dapr resources alone.</summary>
    public static readonly TheoryData<string> Kustomizations = new() { "deploy/k8s", "deploy/k8s/overlays/redis-cluster", "deploy/dapr" };

    /// <summary>The renderings that deploy the services.</summary>
    public static readonly TheoryData<string> Platforms = new() { "deploy/k8s", "deploy/k8s/overlays/redis-cluster" };

    [Fact]
    public void The_code_defines_the_five_services()
    {
        Assert.Equal(["billing", "metering", "onboarding", "packages", "refund"], Repo.AppIds);
        Assert.All(Repo.Services, s => Assert.True(File.Exists(Repo.PathOf(s.Project)), $"{s.Project} exists"));
    }

    [Fact]
    public void Every_yaml_file_under_deploy_and_tye_yaml_parses()
    {
        var files = Directory.EnumerateFiles(Repo.PathOf("deploy"), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Append(Repo.PathOf("tye.yaml"))
            .ToList();
        Assert.True(files.Count >= 15, $"found only {files.Count} YAML files");
        foreach (var file in files)
        {
            var documents = Yaml.LoadFile(file);
            Assert.True(documents.Count > 0, $"{Repo.Relative(file)} has no document");
            Assert.All(documents, d => Assert.True(d is Dictionary<string, object?>, $"{Repo.Relative(file)}: every document is a mapping"));
            // Kubernetes objects: deploy/k8s and deploy/dapr (other folders hold tool configs, e.g. deploy/observability).
            var relative = Repo.Relative(file);
            if (!relative.StartsWith("deploy/k8s/", StringComparison.Ordinal) && !relative.StartsWith("deploy/dapr/", StringComparison.Ordinal)) continue;
            foreach (var o in documents.Cast<Dictionary<string, object?>>().Select(d => new K8sObject(d)))
            {
                Assert.False(string.IsNullOrEmpty(o.ApiVersion), $"{Repo.Relative(file)}: {o} has an apiVersion");
                Assert.False(string.IsNullOrEmpty(o.Kind), $"{Repo.Relative(file)}: an object has a kind");
                if (o.Kind != "Kustomization") Assert.False(string.IsNullOrEmpty(o.Name), $"{Repo.Relative(file)}: {o.Kind} has metadata.name");
            }
        }
    }

    [Fact]
    public void Every_kustomization_reference_exists_and_every_manifest_is_referenced()
    {
        var kustomizations = Directory.EnumerateFiles(Repo.PathOf("deploy"), "kustomization.yaml", SearchOption.AllDirectories).ToList();
        Assert.True(kustomizations.Count >= 4);
        var referenced = new HashSet<string>();
        foreach (var file in kustomizations)
        {
            foreach (var (entry, path) in References(file))
            {
                var ok = File.Exists(path) || File.Exists(Path.Combine(path, "kustomization.yaml"));
                Assert.True(ok, $"{Repo.Relative(file)} names '{entry}', which does not exist");
                referenced.Add(File.Exists(path) ? path : Path.Combine(path, "kustomization.yaml"));
            }
        }
        // Entry points: deploy/k8s and each overlay. Every other manifest must be part of a kustomization.
        var entryPoints = new[] { Repo.PathOf("deploy/k8s/kustomization.yaml") }
            .Concat(Directory.EnumerateFiles(Repo.PathOf("deploy/k8s/overlays"), "kustomization.yaml", SearchOption.AllDirectories))
            .Select(Path.GetFullPath)
            .ToHashSet();
        var manifests = Directory.EnumerateFiles(Repo.PathOf("deploy/k8s"), "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Repo.PathOf("deploy/dapr"), "*.yaml", SearchOption.AllDirectories))
            .Select(Path.GetFullPath)
            .Where(f => !entryPoints.Contains(f));
        foreach (var manifest in manifests)
            Assert.True(referenced.Contains(manifest), $"{Repo.Relative(manifest)} is not part of any kustomization");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void The_kustomization_renders(string directory)
    {
        var rendering = Kustomize.Render(directory);
        Assert.NotEmpty(rendering.Objects);
        Assert.Equal(rendering.Objects.Count, rendering.Objects.Select(o => $"{o.ApiVersion}/{o.Kind}/{o.Name}").Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Platforms))]
    public void Each_service_has_a_deployment_with_its_app_id_image_ports_probes_and_dapr_annotations(string directory)
    {
        var r = Kustomize.Render(directory);
        var (grpc, http) = Repo.ContainerPorts;
        Assert.Equal(Repo.DeploymentNames, r.OfKind("Deployment").Select(d => d.Name).Order(StringComparer.Ordinal));
        var configurations = r.OfKind("Configuration").Where(c => c.Group == "dapr.io").Select(c => c.Name).ToHashSet();

        foreach (var service in Repo.Services)
        {
            var d = r.Single("Deployment", service.AppId).Node;
            var where = $"{directory}: Deployment/{service.AppId}";

            var selector = d.Map("spec.selector.matchLabels");
            var podLabels = d.Map("spec.template.metadata.labels");
            Assert.NotEmpty(selector);
            Assert.All(selector, kv => Assert.True(podLabels.TryGetValue(kv.Key, out var v) && Equals(v, kv.Value), $"{where}: the selector {kv.Key}={kv.Value} matches the pod labels"));

            var annotations = d.Map("spec.template.metadata.annotations");
            Assert.Equal("true", annotations.GetValueOrDefault("dapr.io/enabled"));
            Assert.Equal(service.AppId, annotations.GetValueOrDefault("dapr.io/app-id"));
            Assert.Equal(http, annotations.GetValueOrDefault("dapr.io/app-port"));
            Assert.Equal("http", annotations.GetValueOrDefault("dapr.io/app-protocol"));
            var config = Assert.IsType<string>(annotations.GetValueOrDefault("dapr.io/config"));
            Assert.True(configurations.Contains(config), $"{where}: dapr.io/config '{config}' names a Dapr Configuration of the rendering");

            var container = Assert.Single(d.Maps("spec.template.spec.containers"));
            Assert.Equal(service.AppId, container.Str("name"));
            var image = container.Str("image") ?? "";
            Assert.Equal($"faceid/{service.AppId}", image.Split(':')[0]);
            var ports = container.Maps("ports").ToDictionary(p => p.Str("name") ?? "", p => p.Str("containerPort"));
            Assert.Equal(grpc, ports.GetValueOrDefault("grpc"));
            Assert.Equal(http, ports.GetValueOrDefault("http"));
            foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            {
                var port = container.Str($"{probe}.grpc.port");
                Assert.True(port == grpc || port == "grpc", $"{where}: {probe} is a gRPC probe of the gRPC port {grpc} (is {port ?? "not a grpc probe"})");
                // Health answers within 1 s whatever Redis does (docs/reliability.md); Kubernetes' default timeout is 1 s.
                var timeout = int.Parse(container.Str($"{probe}.timeoutSeconds") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(timeout >= 2, $"{where}: {probe} allows {timeout} s, less than health's 1-s answer time plus a margin");
            }
            Assert.NotEmpty(container.Map("resources.requests"));
            Assert.NotEmpty(container.Map("resources.limits"));

            // What the container reads exists in the rendering.
            foreach (var from in container.Maps("envFrom"))
                if (from.Str("configMapRef.name") is { } cm) Assert.NotNull(r.Find("ConfigMap", cm));
            foreach (var env in container.Maps("env"))
            {
                if (env.Str("valueFrom.secretKeyRef.name") is not { } secret) continue;
                var key = env.Str("valueFrom.secretKeyRef.key")!;
                // A Secret outside the rendering is created out of band: deploy/README.md says how.
                if (r.Find("Secret", secret) is null)
                    Assert.True(Repo.Read("deploy/README.md").Contains($"kubectl create secret generic {secret}", StringComparison.Ordinal), $"{where}: env {env.Str("name")} reads Secret {secret}, which is not in the rendering and deploy/README.md does not say how to create");
                else
                    Assert.True(SecretKeys(r, secret).Contains(key), $"{where}: env {env.Str("name")} reads key {key} of Secret {secret}, which the rendering lacks");
            }
            Assert.Contains(container.Maps("env"), e => e.Str("name") == "Redis__ConnectionString");
        }
    }

    [Theory]
    [MemberData(nameof(Platforms))]
    public void The_console_has_a_deployment_with_http_probes_on_its_health_endpoint_no_sidecar_and_no_development_sign_in(string directory)
    {
        var r = Kustomize.Render(directory);
        var console = Repo.Console.AppId;
        var d = r.Single("Deployment", console).Node;
        var where = $"{directory}: Deployment/{console}";
        var http = Repo.ContainerPorts.Http;
        // One replica: circuits and the cookie key ring live in the pod (docs/console.md, "On Kubernetes").
        Assert.Equal("1", d.Str("spec.replicas"));
        Assert.NotEqual("true", d.Map("spec.template.metadata.annotations").GetValueOrDefault("dapr.io/enabled") as string);
        var container = Assert.Single(d.Maps("spec.template.spec.containers"));
        Assert.Equal($"faceid/{console}", (container.Str("image") ?? "").Split(':')[0]);
        Assert.Equal([("http", http)], container.Maps("ports").Select(p => (p.Str("name"), p.Str("containerPort"))));
        // The probes call the path the console maps without sign-in (Program.cs: MapHealthChecks("…").AllowAnonymous()).
        var health = System.Text.RegularExpressions.Regex.Match(Repo.Read("services/Console/Program.cs"), @"MapHealthChecks\(""([^""]+)""\)\.AllowAnonymous\(\)").Groups[1].Value;
        Assert.NotEmpty(health);
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            Assert.Equal(health, container.Str($"{probe}.httpGet.path"));
            Assert.Contains(container.Str($"{probe}.httpGet.port"), new[] { "http", http });
        }
        Assert.NotEmpty(container.Map("resources.requests"));
        Assert.NotEmpty(container.Map("resources.limits"));
        Assert.Equal("true", container.Str("securityContext.readOnlyRootFilesystem"));
        Assert.Equal("true", d.Str("spec.template.spec.securityContext.runAsNonRoot"));

        // Each service address names that service's in-cluster Service on its gRPC port.
        var env = ContainerEnvironment.Resolve(r, r.Single("Deployment", console), (_, _) => "<created out of band>").ToDictionary(e => e.Name, e => e.Value);
        foreach (var service in Repo.Services)
        {
            var address = new Uri(env[$"Services__{service.Folder}"]);
            var target = r.Single("Service", address.Host).Node.Maps("spec.ports").Single(p => p.Str("port") == address.Port.ToString());
            Assert.Equal("grpc", target.Str("name"));
            Assert.Equal(service.AppId, address.Host);
        }
        // Tokens are validated with the services' key (same Secret), and never minted: the
        // development sign-in exists only with a key, no authority and SignIn:Development not false.
        var key = Assert.Single(container.Maps("env"), e => e.Str("name") == "Auth__SigningKey");
        Assert.Equal(("faceid-auth", "signing-key"), (key.Str("valueFrom.secretKeyRef.name"), key.Str("valueFrom.secretKeyRef.key")));
        Assert.Equal("false", env.GetValueOrDefault("SignIn__Development"));
        Assert.False(env.ContainsKey("Auth__Authority"));

        var service_ = r.Single("Service", console).Node;
        var podLabels = d.Map("spec.template.metadata.labels");
        Assert.All(service_.Map("spec.selector"), kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
        Assert.Equal([("http", "http")], service_.Maps("spec.ports").Select(p => (p.Str("name"), p.Str("targetPort"))));
    }

    [Theory]
    [MemberData(nameof(Platforms))]
    public void Each_service_has_a_service_on_its_grpc_and_http_ports(string directory)
    {
        var r = Kustomize.Render(directory);
        foreach (var appId in Repo.AppIds)
        {
            var service = r.Single("Service", appId).Node;
            var podLabels = r.Single("Deployment", appId).Node.Map("spec.template.metadata.labels");
            Assert.All(service.Map("spec.selector"), kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
            var ports = service.Maps("spec.ports").ToDictionary(p => p.Str("name") ?? "");
            Assert.Equal(["grpc", "http"], ports.Keys.Order());
            var target = ports["grpc"].Str("targetPort");
            Assert.True(target == "grpc" || target == Repo.ContainerPorts.Grpc, $"Service/{appId} targets the gRPC port (is {target})");
            Assert.Equal("kubernetes.io/h2c", ports["grpc"].Str("appProtocol"));
            // The HTTP/1.1 port carries the JSON routes and the OpenAPI document (docs/api.md).
            var http = ports["http"].Str("targetPort");
            Assert.True(http == "http" || http == Repo.ContainerPorts.Http, $"Service/{appId} http targets the HTTP/1.1 port (is {http})");
        }
    }

    [Theory]
    [MemberData(nameof(Platforms))]
    public void What_the_services_write_is_on_writable_volumes(string directory)
    {
        var r = Kustomize.Render(directory);
        var configMap = r.OfKind("ConfigMap").SelectMany(c => c.Node.Map("data")).ToDictionary(kv => kv.Key, kv => kv.Value as string);
        var workdir = Repo.Read("deploy/image/Containerfile").Split('\n').Last(l => l.StartsWith("WORKDIR ", StringComparison.Ordinal))["WORKDIR ".Length..].Trim();
        foreach (var appId in Repo.AppIds)
        {
            var d = r.Single("Deployment", appId).Node;
            var container = d.Maps("spec.template.spec.containers").Single();
            if (container.Str("securityContext.readOnlyRootFilesystem") != "true") continue;
            var env = container.Maps("env").Where(e => e.Str("value") is not null).ToDictionary(e => e.Str("name")!, e => e.Str("value"));
            var volumes = d.Maps("spec.template.spec.volumes").Select(v => v.Str("name")).ToHashSet();
            foreach (var claim in d.Maps("spec.template.spec.volumes").Select(v => v.Str("persistentVolumeClaim.claimName")).OfType<string>())
                Assert.True(r.Find("PersistentVolumeClaim", claim) is not null, $"{directory}: Deployment/{appId} mounts the claim {claim}, which the rendering lacks");
            var writable = container.Maps("volumeMounts")
                .Where(m => m.Str("readOnly") != "true")
                .Select(m =>
                {
                    Assert.True(volumes.Contains(m.Str("name")), $"Deployment/{appId}: volumeMount {m.Str("name")} names a volume of the pod");
                    return m.Str("mountPath")!.TrimEnd('/') + "/";
                })
                .ToList();
            foreach (var (key, codeDefault) in WrittenDirectories(appId).Append(("TMPDIR", "/tmp")))
            {
                var value = env.GetValueOrDefault(key) ?? configMap.GetValueOrDefault(key) ?? codeDefault;
                var full = value.StartsWith('/') ? value : workdir.TrimEnd('/') + "/" + value;
                Assert.True(writable.Any(w => (full.TrimEnd('/') + "/").StartsWith(w, StringComparison.Ordinal)),
                    $"{directory}: Deployment/{appId} has a read-only root file system, but {key} = {full} is on no writable volume (mounts: {string.Join(", ", writable)})");
            }
        }
    }

    /// <summary>Directories a service writes at run time: (environment key, default relative to the working directory).</summary>
    private static IEnumerable<(string Key, string Default)> WrittenDirectories(string appId)
    {
        // The option classes bind these sections (Documents:Directory, Notifications:SinkDirectory in services/Onboarding).
        Assert.Contains("Documents", Repo.OptionSections);
        Assert.Contains("Notifications", Repo.OptionSections);
        var onboarding = Repo.Read("services/Onboarding/Application/DocumentStore.cs") + Repo.Read("services/Onboarding/Application/Notifications/NotificationOptions.cs");
        Assert.Contains("public string Directory { get; set; } = Path.Combine(\"data\", \"documents\");", onboarding);
        Assert.Contains("public string SinkDirectory { get; set; } = Path.Combine(\"data\", \"notifications\");", onboarding);
        return appId == "onboarding"
            ? [("Documents__Directory", "data/documents"), ("Notifications__SinkDirectory", "data/notifications")]
            : [];
    }

    [Fact]
    public void The_image_kustomization_names_every_service_image()
    {
        var k = Yaml.LoadFile(Repo.PathOf("deploy/k8s/base/kustomization.yaml")).Single();
        Assert.Equal(Repo.DeploymentNames.Select(a => $"faceid/{a}"), k.Maps("images").Select(i => i.Str("name")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_container_recipe_builds_any_service_folder_and_sets_the_documented_container_ports()
    {
        var recipe = Repo.Read("deploy/image/Containerfile");
        Assert.Contains("services/${SERVICE}/FaceId.${SERVICE}.csproj", recipe);
        Assert.All(Repo.Services, s => Assert.Equal($"services/{s.Folder}/FaceId.{s.Folder}.csproj", s.Project));
        var (grpc, http) = Repo.ContainerPorts;
        Assert.Matches($@"(?m)^EXPOSE\s+({grpc}\s+{http}|{http}\s+{grpc})\s*$", recipe);
        // Every Deployment file says how its image is built; the folder it names has that app id.
        foreach (var s in Repo.Deployables)
            Assert.Contains($"--build-arg SERVICE={s.Folder} -t faceid/{s.AppId}", Repo.Read($"deploy/k8s/base/{s.AppId}.yaml"));
        // docs/api.md: "Containers use 8080 and 8081".
        Assert.Contains($"Containers use {grpc} and {http}", string.Join(' ', Repo.Read("docs/api.md").Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)));
    }

    [Theory]
    [MemberData(nameof(Platforms))]
    public void Every_deployment_provides_each_required_setting_and_names_only_settings_the_code_knows(string directory)
    {
        var problems = SettingsCheck.Problems(Kustomize.Render(directory));
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Every_tye_service_provides_each_required_setting_and_names_only_settings_the_code_knows()
    {
        var problems = SettingsCheck.TyeProblems(Yaml.LoadFile(Repo.PathOf("tye.yaml")).Single());
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void The_required_settings_are_read_from_the_code()
    {
        // What the options' start-up validation rejects at its defaults; the app id is set by the code.
        var required = CodeSettings.Required.Select(r => r.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("Auth__SigningKey or Auth__Authority", required);
        Assert.Contains("Redis__ConnectionString", required);
        Assert.DoesNotContain(required, r => r.Contains("AppId", StringComparison.Ordinal));
        Assert.All(CodeSettings.Required, r => Assert.Superset(Repo.AppIds.ToHashSet(), r.AppIds.ToHashSet()));
        // The console validates tokens like the services (Auth) and knows its service addresses; it has no Redis.
        Assert.Contains(CodeSettings.RequiredBy("console"), r => r.ToString() == "Auth__SigningKey or Auth__Authority");
        Assert.DoesNotContain(CodeSettings.RequiredBy("console"), r => r.ToString() == "Redis__ConnectionString");
        Assert.Null(CodeSettings.Unknown("Services__Billing", "console"));
        Assert.NotNull(CodeSettings.Unknown("Services__Billing", "billing"));
        Assert.NotNull(CodeSettings.Unknown("EventBus__Transport", "console"));
        Assert.Null(CodeSettings.Unknown("SignIn__Development", "console"));
        Assert.Contains("AppId", CodeSettings.SetByCode);
        Assert.Contains("Ports__Grpc", CodeSettings.LiteralKeys);
        Assert.Contains("Ports__Http", CodeSettings.LiteralKeys);
        Assert.Contains("Ports__Address", CodeSettings.LiteralKeys);
        Assert.Null(CodeSettings.Unknown("EventBus__OutboxSweepIntervalMs", "billing"));
        Assert.NotNull(CodeSettings.Unknown("EventBus__AppId", "billing"));
        Assert.Null(CodeSettings.Unknown("Documents__Directory", "onboarding"));
        Assert.NotNull(CodeSettings.Unknown("Documents__Directory", "billing"));
    }

    /// <summary>The files a kustomization names (resources and patch paths), resolved; directories stand for their kustomization.yaml.</summary>
    private static IEnumerable<(string Entry, string Path)> References(string kustomizationFile)
    {
        var dir = Path.GetDirectoryName(kustomizationFile)!;
        var k = Yaml.LoadFile(kustomizationFile).Single();
        foreach (var r in k.Strings("resources")) yield return (r, Path.GetFullPath(Path.Combine(dir, r)));
        foreach (var p in k.Maps("patches"))
            if (p.Str("path") is { } path) yield return (path, Path.GetFullPath(Path.Combine(dir, path)));
    }

    private static HashSet<string> SecretKeys(Rendering r, string name) =>
        r.Find("Secret", name) is { } secret
            ? secret.Node.Map("stringData").Keys.Concat(secret.Node.Map("data").Keys).ToHashSet()
            : [];
}
