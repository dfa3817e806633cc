namespace FaceId.Console;

/// <summary>Defaults of the local run: the console's port and the services' gRPC addresses (README, "Ports").</summary>
public static class ConsoleDefaults
{
    public const int Port = 5100;

    /// <summary>Configuration section "Services": each service's gRPC address (Services__Onboarding=http://host:port).</summary>
    public const string ServicesSection = "Services";

    public static readonly IReadOnlyDictionary<string, string> ServiceAddresses = new Dictionary<string, string>
    {
        ["Onboarding"] = "http://127.0.0.1:5101",
        ["Packages"] = "http://127.0.0.1:5102",
        ["Metering"] = "http://127.0.0.1:5103",
        ["Billing"] = "http://127.0.0.1:5104",
        ["Refund"] = "http://127.0.0.1:5105",
    };
}
