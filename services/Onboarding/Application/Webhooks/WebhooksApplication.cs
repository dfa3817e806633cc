using System.Security.Cryptography;
using FaceId.Common;
using Microsoft.Extensions.Options;
using Ep = FaceId.Onboarding.Application.Webhooks.WebhookEndpointRecordFormat;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>
/// Webhook endpoints of a main account: create, list, update, enable/disable, delete, rotate the
/// secret, the delivery log and manual redelivery. Another account's endpoint is NOT_FOUND.
/// </summary>
public sealed class WebhooksApplication(
    AccountStore accounts, WebhookStore store, AddressPolicy addresses, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const int MaxDescriptionLength = FieldLimits.WebhookDescription;
    public const int MaxGraceSeconds = 604_800;

    public async Task<(WebhookEndpointRecord Endpoint, string Secret)> CreateAsync(
        string idempotencyKey, string accountId, string url, IReadOnlyList<string> eventTypes, string description, CancellationToken ct)
    {
        var v = new InputValidator().Id("idempotency_key", idempotencyKey).Id("account_id", accountId)
            .Text("description", description, MaxDescriptionLength, required: false);
        EventTypes(v, eventTypes, required: true);
        v.ThrowIfInvalid();
        var checkedUrl = await addresses.CheckUrlAsync("url", url, ct);
        await RequireMainAccountAsync(accountId);

        var now = time.GetUtcNow();
        var endpoint = new WebhookEndpointRecord("we_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10)), accountId,
            checkedUrl.AbsoluteUri, eventTypes.Distinct().ToList(), description ?? "", true, "", now, now, NewSecret(), "", null, 0);
        // The endpoint may be updated later, so the key keeps a fingerprint of what was asked (event types as a set).
        var fingerprint = IdempotentRequest.Fingerprint(("url", endpoint.Url),
            ("event_types", string.Join(',', endpoint.EventTypes.Order(StringComparer.Ordinal))), ("description", endpoint.Description));
        var created = await store.CreateEndpointAsync(accountId, idempotencyKey, endpoint, fingerprint)
            ?? throw new PreconditionFailedException("WEBHOOK_ENDPOINT_LIMIT", accountId,
                $"The account has {options.Value.MaxEndpointsPerAccount} webhook endpoints, the most allowed; delete one first.");
        IdempotentRequest.ThrowIfReused("idempotency_key", created.Fingerprint, fingerprint);
        var stored = await store.GetEndpointAsync(accountId, created.Id) ?? throw new NotFoundException("webhook endpoint", created.Id);
        return (stored, stored.Secret);
    }

    public async Task<IReadOnlyList<WebhookEndpointRecord>> ListAsync(string accountId)
    {
        new InputValidator().Id("account_id", accountId).ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        return await store.ListEndpointsAsync(accountId);
    }

    /// <summary>Changes what is given: a URL (checked again), event types, a description.</summary>
    public async Task<WebhookEndpointRecord> UpdateAsync(string accountId, string endpointId, string url, IReadOnlyList<string> eventTypes, string description, CancellationToken ct)
    {
        var v = Ids(accountId, endpointId).Text("description", description, MaxDescriptionLength, required: false);
        EventTypes(v, eventTypes, required: false);
        v.Require(!string.IsNullOrEmpty(url) || eventTypes.Count > 0 || !string.IsNullOrEmpty(description), "url", "name at least one of url, event_types, description");
        v.ThrowIfInvalid();
        var checkedUrl = string.IsNullOrEmpty(url) ? null : await addresses.CheckUrlAsync("url", url, ct);
        await RequireEndpointAsync(accountId, endpointId);
        var fields = new List<(string, StackExchange.Redis.RedisValue)> { (Ep.UpdatedAt, time.GetUtcNow().ToUnixTimeMilliseconds()) };
        if (checkedUrl is not null) fields.Add((Ep.Url, checkedUrl.AbsoluteUri));
        if (eventTypes.Count > 0) fields.Add((Ep.Events, string.Join(',', eventTypes.Distinct())));
        if (!string.IsNullOrEmpty(description)) fields.Add((Ep.Description, description));
        return await WriteAsync(accountId, endpointId, [.. fields]);
    }

    /// <summary>Disabling parks the endpoint's pending deliveries; enabling resets its failure count and resumes them now.</summary>
    public async Task<WebhookEndpointRecord> SetEnabledAsync(string accountId, string endpointId, bool enabled)
    {
        Ids(accountId, endpointId).ThrowIfInvalid();
        await RequireEndpointAsync(accountId, endpointId);
        var now = time.GetUtcNow();
        var endpoint = enabled
            ? await WriteAsync(accountId, endpointId, (Ep.Enabled, WebhookWords.Enabled), (Ep.DisabledReason, ""), (Ep.Failures, 0), (Ep.UpdatedAt, now.ToUnixTimeMilliseconds()))
            : await WriteAsync(accountId, endpointId, (Ep.Enabled, WebhookWords.Disabled), (Ep.DisabledReason, WebhookWords.DisabledByCustomer), (Ep.UpdatedAt, now.ToUnixTimeMilliseconds()));
        if (enabled) await store.ResumePendingAsync(accountId, endpointId, now);
        return endpoint;
    }

    public async Task DeleteAsync(string accountId, string endpointId)
    {
        Ids(accountId, endpointId).ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        if (!await store.DeleteEndpointAsync(accountId, endpointId)) throw new NotFoundException("webhook endpoint", endpointId);
    }

    /// <summary>A new secret; the current one becomes the previous one and keeps signing for the grace period.</summary>
    public async Task<(WebhookEndpointRecord Endpoint, string Secret)> RotateSecretAsync(string accountId, string endpointId, int graceSeconds)
    {
        Ids(accountId, endpointId)
            .Require(graceSeconds is >= 0 and <= MaxGraceSeconds, "grace_seconds", $"must be between 0 and {MaxGraceSeconds} (7 days; 0 = {options.Value.RotationGraceSeconds})")
            .ThrowIfInvalid();
        var current = await RequireEndpointAsync(accountId, endpointId);
        var now = time.GetUtcNow();
        var grace = graceSeconds == 0 ? options.Value.RotationGraceSeconds : graceSeconds;
        var secret = NewSecret();
        var endpoint = await WriteAsync(accountId, endpointId, (Ep.Secret, secret), (Ep.PreviousSecret, current.Secret),
            (Ep.PreviousUntil, now.AddSeconds(grace).ToUnixTimeMilliseconds()), (Ep.UpdatedAt, now.ToUnixTimeMilliseconds()));
        return (endpoint, secret);
    }

    public async Task<(IReadOnlyList<WebhookDeliveryRecord> Page, string NextPageToken)> ListDeliveriesAsync(string accountId, string endpointId, int pageSize, string pageToken)
    {
        Ids(accountId, endpointId).ThrowIfInvalid();
        var (size, offset) = Paging.Parse(pageSize, pageToken);
        await RequireEndpointAsync(accountId, endpointId);
        var (page, total) = await store.ListDeliveriesAsync(accountId, endpointId, offset, size);
        return (page, offset + size < total ? Paging.Encode(offset + size) : "");
    }

    public async Task<WebhookDeliveryRecord> RedeliverAsync(string accountId, string endpointId, string deliveryId)
    {
        Ids(accountId, endpointId).Id("delivery_id", deliveryId).ThrowIfInvalid();
        await RequireEndpointAsync(accountId, endpointId);
        if (!await store.RedeliverAsync(accountId, endpointId, deliveryId, time.GetUtcNow()))
            throw new NotFoundException("webhook delivery", deliveryId);
        return await store.GetDeliveryAsync(accountId, deliveryId) ?? throw new NotFoundException("webhook delivery", deliveryId);
    }

    /// <summary>"whsec_" + base64 of 32 random bytes (the Standard Webhooks secret format).</summary>
    private static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static InputValidator Ids(string accountId, string endpointId) => new InputValidator().Id("account_id", accountId).Id("endpoint_id", endpointId);

    private static void EventTypes(InputValidator v, IReadOnlyList<string> types, bool required)
    {
        if (required && types.Count == 0) v.Add("event_types", "name at least one event type: " + string.Join(", ", WebhookEvents.All));
        for (var i = 0; i < Math.Min(types.Count, 50); i++)
            if (!WebhookEvents.All.Contains(types[i]))
                v.Add($"event_types[{i}]", $"unknown event type '{CallerInput.Echo(types[i])}'; known: " + string.Join(", ", WebhookEvents.All));
        if (types.Count > 50) v.Add("event_types", "must list at most 50 event types");
    }

    private async Task<WebhookEndpointRecord> WriteAsync(string accountId, string endpointId, params (string, StackExchange.Redis.RedisValue)[] fields)
    {
        if (!await store.UpdateEndpointAsync(accountId, endpointId, fields)) throw new NotFoundException("webhook endpoint", endpointId);
        return await store.GetEndpointAsync(accountId, endpointId) ?? throw new NotFoundException("webhook endpoint", endpointId);
    }

    private async Task<WebhookEndpointRecord> RequireEndpointAsync(string accountId, string endpointId)
    {
        await RequireMainAccountAsync(accountId);
        return await store.GetEndpointAsync(accountId, endpointId) ?? throw new NotFoundException("webhook endpoint", endpointId);
    }

    private async Task RequireMainAccountAsync(string accountId)
    {
        var account = await accounts.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        if (account.MainAccountId is not null)
            throw new PreconditionFailedException("NOT_A_MAIN_ACCOUNT", accountId, "Webhook endpoints belong to the main account (R-ACC-1).");
    }
}
