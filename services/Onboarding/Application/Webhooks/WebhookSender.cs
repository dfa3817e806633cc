using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StandardWebhooks;
using Microsoft.Extensions.Options;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>The result of one attempt: the HTTP status (0 when none came), its latency and, on failure, why.</summary>
public sealed record AttemptResult(bool Success, int StatusCode, TimeSpan Latency, string Error);

/// <summary>A connection refused by <see cref="AddressPolicy"/> at connect time.</summary>
public sealed class ForbiddenAddressException(string reason, IPAddress address)
    : Exception($"forbidden address ({reason}): {address}")
{
    public string Reason { get; } = reason;
}

/// <summary>
/// Sends one signed delivery (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature
/// with one "v1,…" per signing secret). The connection goes only to an address the policy allows,
/// checked on the resolved address when connecting (DNS rebinding cannot slip past the check made
/// at registration); redirects are not followed (a 3xx is a failed attempt); one timeout bounds the
/// whole attempt and at most Webhooks:MaxResponseBytes of the answer are read.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly WebhookOptions _options;

    public WebhookSender(AddressPolicy policy, IOptions<WebhookOptions> options)
    {
        _options = options.Value;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromMilliseconds(_options.AttemptTimeoutMs),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxResponseHeadersLength = 64, // KiB
            ConnectCallback = (context, ct) => ConnectAsync(policy, context.DnsEndPoint, ct),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Resolves the host and connects to the first allowed address; refuses when the policy allows none.</summary>
    public static async ValueTask<Stream> ConnectAsync(AddressPolicy policy, DnsEndPoint endpoint, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        ForbiddenAddressException? refused = null;
        foreach (var address in addresses)
        {
            if (policy.Refusal(address) is { } reason)
            {
                refused ??= new ForbiddenAddressException(reason, address);
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                if (address.Equals(addresses[^1])) throw;
            }
        }
        if (refused is not null) throw refused;
        throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>The webhook-signature header value: a "v1,&lt;base64&gt;" per secret, space separated.</summary>
    public static string Signature(IReadOnlyList<string> secrets, string webhookId, DateTimeOffset timestamp, string payload) =>
        string.Join(' ', secrets.Select(s => new StandardWebhook(s).Sign(webhookId, timestamp, payload)));

    public async Task<AttemptResult> SendAsync(Uri url, string webhookId, string payload, IReadOnlyList<string> secrets, DateTimeOffset now, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.AttemptTimeoutMs);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("webhook-id", webhookId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", now.ToUnixTimeSeconds().ToString());
        request.Headers.TryAddWithoutValidation("webhook-signature", Signature(secrets, webhookId, now, payload));
        request.Headers.TryAddWithoutValidation("user-agent", "FaceId-Webhooks/1");
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            await ReadBoundedAsync(response, timeout.Token);
            var status = (int)response.StatusCode;
            var ok = status is >= 200 and < 300;
            return new AttemptResult(ok, status, Stopwatch.GetElapsedTime(started),
                ok ? "" : status is >= 300 and < 400 ? "redirect (not followed)" : $"http_{status}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new AttemptResult(false, 0, Stopwatch.GetElapsedTime(started), "timeout");
        }
        catch (HttpRequestException e) when (Find<ForbiddenAddressException>(e) is { } f)
        {
            return new AttemptResult(false, 0, Stopwatch.GetElapsedTime(started), "forbidden_address: " + f.Reason);
        }
        catch (HttpRequestException e)
        {
            return new AttemptResult(false, 0, Stopwatch.GetElapsedTime(started), "connect_error: " + (e.HttpRequestError == HttpRequestError.Unknown ? e.GetType().Name : e.HttpRequestError.ToString()));
        }
    }

    /// <summary>Reads at most MaxResponseBytes of the body, then stops (disposing the response drops the rest).</summary>
    private async Task ReadBoundedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[8192];
        var left = _options.MaxResponseBytes;
        while (left > 0)
        {
            var n = await body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, left)), ct);
            if (n == 0) break;
            left -= n;
        }
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
            if (e is T t) return t;
        return null;
    }

    public void Dispose() => _client.Dispose();
}
