using System.Net;
using System.Net.Sockets;
using FaceId.Common;
using Microsoft.Extensions.Options;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>
/// No server-side request forgery (docs/webhooks.md, "SSRF"): which addresses a webhook may reach.
/// Refused: loopback, unspecified, private (RFC 1918, CGNAT 100.64/10, ULA fc00::/7), link-local
/// (169.254/16 with the cloud metadata address, fe80::/10), multicast, broadcast, the other
/// special-purpose blocks, and IPv4-mapped / NAT64 forms of those — unless in Webhooks:AllowedNetworks.
/// Applied to the URL at registration (a literal address, or every address its name resolves to)
/// and to the address actually connected at delivery (<see cref="WebhookSender"/>), so a name that
/// later resolves elsewhere (DNS rebinding) is refused too.
/// </summary>
public sealed class AddressPolicy
{
    private static readonly (IPNetwork Network, string Reason)[] Forbidden =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "private"), // carrier-grade NAT
        (IPNetwork.Parse("169.254.169.254/32"), "metadata"),
        (IPNetwork.Parse("169.254.0.0/16"), "link_local"),
        (IPNetwork.Parse("192.0.0.0/24"), "reserved"),
        (IPNetwork.Parse("192.0.2.0/24"), "reserved"),
        (IPNetwork.Parse("198.18.0.0/15"), "reserved"),
        (IPNetwork.Parse("198.51.100.0/24"), "reserved"),
        (IPNetwork.Parse("203.0.113.0/24"), "reserved"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"), // and 255.255.255.255
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("fc00::/7"), "private"),
        (IPNetwork.Parse("fe80::/10"), "link_local"),
        (IPNetwork.Parse("fec0::/10"), "link_local"), // deprecated site-local
        (IPNetwork.Parse("ff00::/8"), "multicast"),
        (IPNetwork.Parse("2001:db8::/32"), "reserved"),
        (IPNetwork.Parse("100::/64"), "reserved"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly IPNetwork[] _allowed;
    private readonly TimeSpan _resolveTimeout;

    public AddressPolicy(IOptions<WebhookOptions> options)
    {
        var v = new List<IPNetwork>();
        foreach (var cidr in options.Value.AllowedNetworks.Where(c => !string.IsNullOrWhiteSpace(c)))
            v.Add(IPNetwork.TryParse(cidr.Trim(), out var n) ? n : throw new StartupException($"Webhooks:AllowedNetworks: '{cidr}' is not a CIDR network (e.g. 127.0.0.0/8)."));
        _allowed = [.. v];
        _resolveTimeout = TimeSpan.FromMilliseconds(options.Value.ResolveTimeoutMs);
    }

    /// <summary>Why the address may not be reached ("loopback", "private", …), or null when it may.</summary>
    public string? Refusal(IPAddress address)
    {
        if (_allowed.Any(n => n.Contains(address))) return null;
        var inner = Unwrapped(address);
        if (!ReferenceEquals(inner, address) && _allowed.Any(n => n.Contains(inner))) return null;
        foreach (var (network, reason) in Forbidden)
            if (network.Contains(inner)) return reason;
        return null;
    }

    /// <summary>IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::a.b.c.d) forms judged as the IPv4 address inside.</summary>
    private static IPAddress Unwrapped(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address) || (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && bytes.AsSpan(12).IndexOfAnyExcept((byte)0) >= 0 && !address.Equals(IPAddress.IPv6Loopback)))
            return new IPAddress(bytes.AsSpan(12));
        return address;
    }

    /// <summary>
    /// Checks an endpoint URL as it is registered: absolute http(s), no credentials, a host; a
    /// literal address and every address the name resolves to must be allowed. A name that does not
    /// resolve now is accepted (it is checked again at every delivery). Throws INVALID_ARGUMENT on <paramref name="field"/>.
    /// </summary>
    public async Task<Uri> CheckUrlAsync(string field, string url, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(url)) throw new InvalidInputException(field, "is required");
        if (url.Length > FieldLimits.Url) throw new InvalidInputException(field, $"must be at most {FieldLimits.Url} characters");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) throw new InvalidInputException(field, "is not an absolute URL");
        if (uri.Scheme is not ("http" or "https")) throw new InvalidInputException(field, $"scheme '{CallerInput.Echo(uri.Scheme)}' is refused: only http and https");
        if (uri.UserInfo.Length > 0) throw new InvalidInputException(field, "must not carry credentials (user:password@)");
        if (uri.Fragment.Length > 0) throw new InvalidInputException(field, "must not carry a fragment");
        var host = uri.IdnHost;
        if (string.IsNullOrEmpty(host)) throw new InvalidInputException(field, "has no host");
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            if (Refusal(literal) is { } reason) throw new InvalidInputException(field, $"forbidden address ({reason}): {literal}");
            return uri;
        }
        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_resolveTimeout);
            addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return uri; // not resolvable now: the delivery-time check decides
        }
        catch (ArgumentException)
        {
            throw new InvalidInputException(field, "has an invalid host name");
        }
        foreach (var a in addresses)
            if (Refusal(a) is { } reason) throw new InvalidInputException(field, $"forbidden address ({reason}): {CallerInput.Echo(host)} resolves to {a}");
        return uri;
    }
}
