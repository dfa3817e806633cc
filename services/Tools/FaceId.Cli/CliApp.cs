using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using FaceId.Cli.Commands;
using Grpc.Core;
using Spectre.Console;

namespace FaceId.Cli;

/// <summary>
/// faceidctl: the operator CLI of the FaceId platform. <see cref="RunAsync"/> is the whole program
/// (Program.Main only passes the console and Ctrl-C): tests call it in process with their own
/// writers. Exit codes: <see cref="ExitCodes"/>.
/// </summary>
public static class CliApp
{
    public const string Name = "faceidctl";

    /// <summary>Parses <paramref name="args"/>, runs the command and returns the exit code; never throws for a failed call.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        var root = Build(output, error);
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var e in parse.Errors) await error.WriteLineAsync($"{Name}: {e.Message}");
            await error.WriteLineAsync($"Run '{CommandPath(parse.CommandResult)} --help' for usage.");
            return ExitCodes.Usage;
        }
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            // Program.Main turns Ctrl-C into the cancellation token; tests run many CLIs in one process.
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parse.InvokeAsync(invocation, cancellation);
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"{Name}: unexpected error: {e.GetType().Name}: {ErrorReport.OneLine(e.Message)}");
            return ExitCodes.Unexpected;
        }
    }

    /// <summary>The command tree, its actions writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var global = new GlobalOptions();
        var runner = new CommandRunner(global, output, error);
        var root = new RootCommand(
            "faceidctl - operator CLI of the FaceId platform (gRPC on ports 5101..5105 by default).\n" +
            "Exit codes: 0 ok, 1 unexpected, 2 usage error, 3 invalid argument, 4 not found, 5 failed precondition, 6 unavailable, 7 permission/authentication.");
        global.AddTo(root);
        root.Add(AccountsCommands.Build(runner));
        root.Add(AccountsCommands.BuildSubAccounts(runner));
        root.Add(UsageCommands.Build(runner));
        root.Add(PackagesCommands.Build(runner));
        root.Add(BillingCommands.Stats(runner));
        root.Add(BillingCommands.Bill(runner));
        root.Add(BillingCommands.Settle(runner));
        root.Add(ExportCommands.Build(runner));
        root.Add(ApplicationsCommands.Build(runner));
        root.Add(MerchantIdsCommands.Build(runner));
        root.Add(RefundCommands.Build(runner));
        root.Add(InboxCommands.Build(runner));
        root.Add(WebhookCommands.Build(runner));
        return root;
    }

    private static string CommandPath(CommandResult? result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c && c.Command is not RootCommand) names.Insert(0, c.Command.Name);
        return string.Join(' ', new[] { Name }.Concat(names));
    }
}

/// <summary>Options every command takes (recursive: they may follow the command name).</summary>
public sealed class GlobalOptions
{
    public Option<string> Host { get; } = new("--host")
    {
        Description = "Host of the services",
        DefaultValueFactory = _ => Endpoints.DefaultHost,
        Recursive = true,
    };

    public Option<int> PortBase { get; } = new("--port-base")
    {
        Description = "gRPC port of Onboarding; Packages, Metering, Billing and Refund follow it (5101..5105)",
        DefaultValueFactory = _ => Endpoints.DefaultPortBase,
        Recursive = true,
    };

    public IReadOnlyDictionary<PlatformService, Option<int?>> Ports { get; } = Enum.GetValues<PlatformService>().ToDictionary(
        s => s,
        s => new Option<int?>($"--{Endpoints.NameOf(s)}-port")
        {
            Description = $"gRPC port of {s} (default: port base + {(int)s})",
            Recursive = true,
        });

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the protobuf JSON of the responses instead of tables",
        Recursive = true,
    };

    public const string TokenVariable = "FACEID_TOKEN";

    public Option<string> Token { get; } = new("--token")
    {
        Description = $"Bearer token (JWT) sent with every call; default: the environment variable {TokenVariable}",
        HelpName = "jwt",
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Deadline of each call, in seconds",
        DefaultValueFactory = _ => 30,
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        PortBase.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 65531) r.AddError("--port-base must be 1..65531.");
        });
        foreach (var port in Ports.Values)
            port.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int?>() is < 1 or > 65535) r.AddError($"{port.Name} must be 1..65535.");
            });
        Timeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is <= 0 or > 86_400 or double.NaN) r.AddError("--timeout must be a number of seconds in (0, 86400].");
        });
        root.Add(Host);
        root.Add(PortBase);
        foreach (var port in Ports.Values) root.Add(port);
        root.Add(Json);
        root.Add(Token);
        root.Add(Timeout);
    }
}

/// <summary>Runs a command's body with a <see cref="CliContext"/> and maps failures to one stderr line and an exit code.</summary>
public sealed class CommandRunner(GlobalOptions global, TextWriter output, TextWriter error)
{
    private IAnsiConsole? _console;
    private IAnsiConsole? _errorConsole;

    public void Handle(Command command, Func<CliContext, ParseResult, Task<int>> body) =>
        command.SetAction((parse, cancellation) => RunAsync(parse, cancellation, body));

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellation, Func<CliContext, ParseResult, Task<int>> body)
    {
        var endpoints = Endpoints.From(
            parse.GetValue(global.Host) ?? Endpoints.DefaultHost,
            parse.GetValue(global.PortBase),
            global.Ports.ToDictionary(p => p.Key, p => parse.GetValue(p.Value)));
        _console ??= Consoles.Create(output, Console.Out, Console.IsOutputRedirected);
        _errorConsole ??= Consoles.Create(error, Console.Error, Console.IsErrorRedirected);
        await using var context = new CliContext(endpoints, parse.GetValue(global.Json), TimeSpan.FromSeconds(parse.GetValue(global.Timeout)),
            parse.GetValue(global.Token) ?? Environment.GetEnvironmentVariable(GlobalOptions.TokenVariable),
            output, error, _console, _errorConsole, cancellation)
        {
            ErrorIsTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected,
        };
        try
        {
            return await body(context, parse);
        }
        catch (RpcException e) when (cancellation.IsCancellationRequested && e.StatusCode == StatusCode.Cancelled)
        {
            await error.WriteLineAsync($"{CliApp.Name}: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (RpcException e)
        {
            await error.WriteLineAsync(ErrorReport.Describe(e, context.Current, endpoints));
            return ExitCodes.For(e.StatusCode);
        }
        catch (CliUsageException e)
        {
            await error.WriteLineAsync($"{CliApp.Name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await error.WriteLineAsync($"{CliApp.Name}: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"{CliApp.Name}: unexpected error: {e.GetType().Name}: {ErrorReport.OneLine(e.Message)}");
            return ExitCodes.Unexpected;
        }
    }
}

/// <summary>Spectre consoles over the given writers: colours and live rendering only on a real terminal.</summary>
public static class Consoles
{
    public static IAnsiConsole Create(TextWriter writer, TextWriter systemWriter, bool systemRedirected)
    {
        var terminal = ReferenceEquals(writer, systemWriter) && !systemRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // A file or a pipe has no width: don't wrap table rows at 80 columns.
        if (!terminal) console.Profile.Width = 240;
        return console;
    }
}
