using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FaceId.TestKit;

/// <summary>
/// Every process a fixture started, killed when the test process exits even if a test forgot to
/// dispose its fixture, so no redis-server or service outlives the test run.
/// </summary>
internal static class ChildProcesses
{
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    static ChildProcesses()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Running.Values)
            {
                try { p.Kill(entireProcessTree: true); } catch { /* already gone */ }
            }
        };
    }

    public static void Track(Process process) => Running[process.Id] = process;

    public static void Forget(Process process) => Running.TryRemove(process.Id, out _);

    /// <summary>Sends SIGTERM (graceful stop: .NET hosts and redis-server shut down cleanly on it).</summary>
    public static void Terminate(Process process)
    {
        if (!OperatingSystem.IsWindows())
        {
            if (SysKill(process.Id, 15) != 0 && !process.HasExited)
                throw new InvalidOperationException($"kill(SIGTERM) of {process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        else
        {
            process.CloseMainWindow();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
