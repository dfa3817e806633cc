using System.Net;
using System.Net.Sockets;

namespace FaceId.TestKit;

/// <summary>Free TCP ports on the loopback interface.</summary>
public static class FreePort
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port that was free a moment ago (the OS picks it by binding 127.0.0.1:0). Never returns
    /// the same port twice in one test run, so concurrent fixtures do not collide with each other;
    /// a process that races us for it is still possible, so starters retry on "address in use".
    /// </summary>
    public static int Next(int maxPort = 65535)
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port > maxPort) continue;
            lock (HandedOut)
            {
                if (HandedOut.Add(port)) return port;
            }
        }
        throw new InvalidOperationException("No free loopback port found.");
    }
}
