using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;

namespace FaceId.Cli;

/// <summary>
/// What one command invocation works with: the endpoints and channels, the output mode (tables on
/// <see cref="Console"/> or protobuf JSON on <see cref="Out"/>), the per-call deadline and the
/// cancellation of the run. Every client handed out records which service it talks to, so an
/// error can name it.
/// </summary>
public sealed class CliContext : IAsyncDisposable
{
    private static readonly JsonFormatter Indented = new(JsonFormatter.Settings.Default.WithIndentation());
    private static readonly JsonFormatter Compact = new(JsonFormatter.Settings.Default);

    private readonly Dictionary<PlatformService, GrpcChannel> _channels = [];

    public CliContext(Endpoints endpoints, bool json, TimeSpan timeout, string? token, TextWriter output, TextWriter error, IAnsiConsole console, IAnsiConsole errorConsole, CancellationToken cancellation)
    {
        Endpoints = endpoints;
        Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
        Json = json;
        Timeout = timeout;
        Out = output;
        Err = error;
        Console = console;
        ErrorConsole = errorConsole;
        Cancellation = cancellation;
    }

    public Endpoints Endpoints { get; }

    /// <summary>Print the protobuf JSON of responses instead of tables.</summary>
    public bool Json { get; }

    /// <summary>Bearer token sent with every call (authorization metadata), if any.</summary>
    public string? Token { get; }

    /// <summary>Deadline of each call.</summary>
    public TimeSpan Timeout { get; }

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    /// <summary>Tables (stdout).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Progress bars (stderr, so that stdout stays a clean table or JSON).</summary>
    public IAnsiConsole ErrorConsole { get; }

    public CancellationToken Cancellation { get; }

    /// <summary>
    /// Stderr is the process's own and a terminal: live progress bars. Otherwise (CI, a log file, a
    /// test's writer) progress is written as plain lines.
    /// </summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>The service of the last client handed out: the one a failed call was talking to.</summary>
    public PlatformService? Current { get; private set; }

    public OnboardingService.OnboardingServiceClient Onboarding => new(Channel(PlatformService.Onboarding));
    public PackagesService.PackagesServiceClient Packages => new(Channel(PlatformService.Packages));
    public MeteringService.MeteringServiceClient Metering => new(Channel(PlatformService.Metering));
    public BillingService.BillingServiceClient Billing => new(Channel(PlatformService.Billing));
    public RefundService.RefundServiceClient Refund => new(Channel(PlatformService.Refund));

    /// <summary>Options of one call: the bearer token, the deadline (from now) and the run's cancellation.</summary>
    public CallOptions Call() => new(
        headers: Token is null ? null : new Metadata { { "authorization", "Bearer " + Token } },
        deadline: DateTime.UtcNow + Timeout,
        cancellationToken: Cancellation);

    public void WriteJson(IMessage message) => Out.WriteLine(Indented.Format(message));

    /// <summary>One message on one line (JSON lines, e.g. followed inbox messages).</summary>
    public void WriteJsonLine(IMessage message) => Out.WriteLine(Compact.Format(message));

    public GrpcChannel Channel(PlatformService service)
    {
        Current = service;
        if (!_channels.TryGetValue(service, out var channel))
        {
            channel = GrpcChannel.ForAddress(Endpoints.Address(service), new GrpcChannelOptions
            {
                MaxReceiveMessageSize = 64 * 1024 * 1024,
                MaxSendMessageSize = 16 * 1024 * 1024,
            });
            _channels[service] = channel;
        }
        return channel;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var channel in _channels.Values) channel.Dispose();
        _channels.Clear();
        return ValueTask.CompletedTask;
    }
}
