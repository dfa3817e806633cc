namespace FaceId.Deploy.Tests;

/// <summary>
/// The settings check of the deployment files against the code (<see cref="CodeSettings"/>): each
/// service's environment provides every setting it requires and names none it does not know. For
/// a rendered Deployment the environment is what the pod gets (<see cref="ContainerEnvironment"/>);
/// for a tye.yaml project service its <c>env</c> list, where an entry without value is taken from
/// the environment of <c>tye run</c> (Tye's rule) and so counts as provided.
/// </summary>
public static class SettingsCheck
{
    /// <summary>Every problem of a rendering's service Deployments; empty when they are all complete and known.</summary>
    public static List<string> Problems(Rendering r)
    {
        var problems = new List<string>();
        foreach (var appId in Repo.DeploymentNames)
        {
            if (r.Find("Deployment", appId) is not { } deployment)
            {
                problems.Add($"{r.Directory}: no Deployment/{appId}");
                continue;
            }
            IReadOnlyList<EnvVar> env;
            try
            {
                env = ContainerEnvironment.Resolve(r, deployment, (_, _) => "<created out of band>");
            }
            catch (InvalidDataException e)
            {
                problems.Add(e.Message);
                continue;
            }
            var provided = env.Where(e => e.Value.Length > 0).Select(e => e.Name).ToList();
            problems.AddRange(Check($"{r.Directory}: Deployment/{appId}", appId, provided, env.Select(e => (e.Name, e.Origin))));
        }
        return problems;
    }

    /// <summary>Every problem of tye.yaml's project services.</summary>
    public static List<string> TyeProblems(object? tye)
    {
        var problems = new List<string>();
        foreach (var service in tye.Maps("services").Where(s => s.Str("project") is not null))
        {
            var appId = service.Str("name")!;
            var entries = service.Maps("env").Select(e => (Name: e.Str("name") ?? "", Value: e.At("value") is null ? null : e.Str("value") ?? "")).ToList();
            // No value: Tye passes the variable of its own environment (documented in tye.yaml and deploy/README.md).
            var provided = entries.Where(e => e.Value is null || e.Value.Length > 0).Select(e => e.Name).ToList();
            problems.AddRange(Check($"tye.yaml: service {appId}", appId, provided, entries.Select(e => (e.Name, e.Value is null ? "tye.yaml env (from the environment of tye run)" : "tye.yaml env"))));
        }
        return problems;
    }

    private static IEnumerable<string> Check(string where, string appId, List<string> provided, IEnumerable<(string Name, string Origin)> names)
    {
        if (!Repo.DeploymentNames.Contains(appId)) yield break;
        foreach (var setting in CodeSettings.RequiredBy(appId))
            if (!CodeSettings.Provides(provided, setting))
                yield return $"{where} provides none of {string.Join(", ", setting.Keys)}, which {setting.Options.Name} requires: the service refuses to start (\"{setting.Message}\")";
        foreach (var (name, origin) in names)
            if (CodeSettings.Unknown(name, appId) is { } why)
                yield return $"{where} sets {name} ({origin}), a setting the code does not know: {why}";
    }
}
