namespace FaceId.Cli;

/// <summary>The five services of the platform, in the order of their default ports (5101..5105).</summary>
public enum PlatformService
{
    Onboarding,
    Packages,
    Metering,
    Billing,
    Refund,
}

/// <summary>Where each service listens: one host, a port per service (default: port base + the service's index).</summary>
public sealed record Endpoints(string Host, IReadOnlyDictionary<PlatformService, int> Ports)
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPortBase = 5101;

    public static Endpoints From(string host, int portBase, IReadOnlyDictionary<PlatformService, int?> overrides) =>
        new(host, Enum.GetValues<PlatformService>().ToDictionary(s => s, s => overrides.GetValueOrDefault(s) ?? portBase + (int)s));

    public static string NameOf(PlatformService service) => service.ToString().ToLowerInvariant();

    /// <summary><c>host:port</c>, with brackets around an IPv6 literal.</summary>
    public string Authority(PlatformService service) =>
        (Host.Contains(':') && !Host.StartsWith('[') ? $"[{Host}]" : Host) + ":" + Ports[service];

    /// <summary>gRPC over HTTP/2 cleartext (prior knowledge), as the services speak it.</summary>
    public Uri Address(PlatformService service) => new($"http://{Authority(service)}");
}
