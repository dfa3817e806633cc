using System.Runtime.InteropServices;
using FaceId.Cli;

// faceidctl: everything is in CliApp.RunAsync; here only the console and the signals.
// Ctrl-C (or SIGTERM) cancels the running command (a second Ctrl-C kills the process).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested) return;
    e.Cancel = true;
    cancellation.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});
return await CliApp.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
