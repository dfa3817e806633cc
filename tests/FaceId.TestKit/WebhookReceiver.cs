using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace FaceId.TestKit;

/// <summary>One request the receiver got: the three Standard Webhooks headers, the body, and what it answered.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body, int Answered, DateTimeOffset At)
{
    public HeaderDictionary Headers => HeadersWith(Signature);

    /// <summary>
    /// The headers with each one signature of webhook-signature alone: the StandardWebhooks package
    /// (1.1.2) checks only the first signature of the header, so a receiver verifies them one by one.
    /// </summary>
    public IEnumerable<HeaderDictionary> EachSignature => Signature.Split(' ').Select(HeadersWith);

    private HeaderDictionary HeadersWith(string signature) => new(new Dictionary<string, StringValues>
    {
        ["webhook-id"] = Id, ["webhook-timestamp"] = Timestamp, ["webhook-signature"] = signature,
    });
}

/// <summary>
/// A real HTTP receiver: Kestrel on a loopback port inside the test. <see cref="Behave"/> decides
/// each answer from the webhook-id and how many times that id came before (status code, or a delay
/// longer than the sender's timeout).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _seen = new();

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>(webhook-id, 1-based arrival number of that id) → (status, delay before answering).</summary>
    public Func<string, int, (int Status, TimeSpan Delay)> Behave { get; set; } = (_, _) => (200, TimeSpan.Zero);

    public Uri Url { get; private set; } = null!;

    private WebhookReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/hooks/{**rest}", async (HttpContext http) =>
        {
            var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
            var id = http.Request.Headers["webhook-id"].ToString();
            var n = _seen.AddOrUpdate(id, 1, (_, c) => c + 1);
            var (status, delay) = Behave(id, n);
            if (delay > TimeSpan.Zero)
            {
                try { await Task.Delay(delay, http.RequestAborted); }
                catch (OperationCanceledException) { }
            }
            // A request the sender gave up on (its timeout) counts as not answered.
            Received.Enqueue(new ReceivedWebhook(id, http.Request.Headers["webhook-timestamp"].ToString(),
                http.Request.Headers["webhook-signature"].ToString(), body, http.RequestAborted.IsCancellationRequested ? 0 : status, DateTimeOffset.UtcNow));
            http.Response.StatusCode = status;
        });
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var r = new WebhookReceiver();
        await r._app.StartAsync();
        var address = r._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        r.Url = new Uri(new Uri(address), "/hooks/faceid");
        return r;
    }

    /// <summary>The same receiver under the name "localhost" (resolves to loopback).</summary>
    public Uri LocalhostUrl => new($"http://localhost:{Url.Port}{Url.AbsolutePath}");

    /// <summary>The requests answered 2xx.</summary>
    public IReadOnlyList<ReceivedWebhook> Accepted => Received.Where(r => r.Answered is >= 200 and < 300).ToList();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
