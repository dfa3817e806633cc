using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FaceId.TestKit;

/// <summary>An error reply (<c>-ERR ...</c>) from Redis.</summary>
public sealed class RespErrorException(string message) : Exception(message);

/// <summary>
/// A minimal RESP client for one command on a fresh connection: the fixtures use it to probe a
/// server that is starting, loading or shutting down, where a multiplexer would retry and log.
/// </summary>
internal static class Resp
{
    /// <summary>Sends one command; returns a simple, integer or bulk reply as text (null for a nil bulk).</summary>
    public static async Task<string?> CommandAsync(int port, TimeSpan timeout, params string[] args)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
        await using var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), cts.Token);
        return await ReadReplyAsync(stream, cts.Token);
    }

    private static async Task<string?> ReadReplyAsync(Stream stream, CancellationToken ct)
    {
        var line = await ReadLineAsync(stream, ct) ?? throw new EndOfStreamException("connection closed without a reply");
        switch (line[0])
        {
            case '+':
            case ':':
                return line[1..];
            case '-':
                throw new RespErrorException(line[1..]);
            case '$':
                var length = int.Parse(line[1..]);
                if (length < 0) return null;
                var buffer = new byte[length + 2];
                await stream.ReadExactlyAsync(buffer, ct);
                return Encoding.UTF8.GetString(buffer, 0, length);
            default:
                throw new NotSupportedException($"RESP reply type '{line[0]}' is not supported by this probe client.");
        }
    }

    private static async Task<string?> ReadLineAsync(Stream stream, CancellationToken ct)
    {
        var bytes = new List<byte>(64);
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, ct) == 0) return bytes.Count == 0 ? null : throw new EndOfStreamException("truncated reply");
            if (one[0] == '\n' && bytes.Count > 0 && bytes[^1] == '\r')
                return Encoding.UTF8.GetString(bytes.ToArray(), 0, bytes.Count - 1);
            bytes.Add(one[0]);
        }
    }
}
