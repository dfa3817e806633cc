using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FaceId.Auth;
using FaceId.Billing.Grpc;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>The answer of one HTTP call: status, content type and the JSON body (null when empty).</summary>
public sealed record HttpAnswer(int Status, string? ContentType, JsonNode? Json, string Raw)
{
    public override string ToString() => $"HTTP {Status} {ContentType}: {Raw}";
}

/// <summary>
/// The local platform (redis-server and the five services as OS processes) reached over plain
/// HTTP/1.1 on each service's HTTP port, and one opened account with one of everything a console
/// reads (a purchased package, a refund, a recorded call, a bill, a sub-account, ...).
/// </summary>
public sealed class HttpPlatform : LocalPlatform
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        DefaultRequestVersion = System.Net.HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };
    /// <summary>Per-caller limit of the rate-limited methods; the tests' own callers stay well below it.</summary>
    public const int PermitsPerMinute = 60;

    protected override IReadOnlyDictionary<string, string?> Settings { get; } =
        new Dictionary<string, string?>
        {
            ["RateLimits__PermitsPerMinute"] = PermitsPerMinute.ToString(),
            // Webhook deliveries stay pending: no background attempt writes Redis while a test compares snapshots.
            ["Webhooks__WorkerEnabled"] = "false",
        };

    /// <summary>The amount of the account's one top-up.</summary>
    public const long TopUpFen = 12_345;

    private readonly SemaphoreSlim _accountLock = new(1, 1);
    private ConsoleAccount? _account;

    /// <summary>Sends one HTTP/1.1 request to a service's HTTP port; <paramref name="token"/> empty: no Authorization header.</summary>
    public Task<HttpAnswer> SendAsync(string service, HttpMethod method, string path, string token, JsonNode? body = null) =>
        SendRawAsync(service, method, path, token, body?.ToJsonString());

    /// <summary>As <see cref="SendAsync"/>, with the body's text as given (e.g. malformed JSON).</summary>
    public async Task<HttpAnswer> SendRawAsync(string service, HttpMethod method, string path, string token, string? body)
    {
        using var request = new HttpRequestMessage(method, new Uri(this[service].HttpAddress, path));
        if (token.Length > 0) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        Assert.Equal(new Version(1, 1), response.Version);
        var raw = await response.Content.ReadAsStringAsync();
        var type = response.Content.Headers.ContentType?.MediaType;
        var json = raw.Length > 0 && type is not null && type.EndsWith("json", StringComparison.Ordinal) ? JsonNode.Parse(raw) : null;
        return new HttpAnswer((int)response.StatusCode, type, json, raw);
    }

    /// <summary>Every Redis key and value once earlier work has settled.</summary>
    public async Task<Dictionary<string, string>> SnapshotAsync()
    {
        using var connection = Redis.Connect();
        return await RedisSnapshot.TakeAsync(connection);
    }

    /// <summary>A console caller bound to <paramref name="accountId"/>.</summary>
    public static string ConsoleToken(string accountId) => TestAuth.Token(Roles.Console, accountId);

    /// <summary>The opened account every case reads, prepared once.</summary>
    public async Task<ConsoleAccount> AccountAsync()
    {
        await _accountLock.WaitAsync();
        try
        {
            return _account ??= await PrepareAccountAsync();
        }
        finally
        {
            _accountLock.Release();
        }
    }

    private async Task<ConsoleAccount> PrepareAccountAsync()
    {
        var accountId = await OpenedAccountAsync();
        // Endpoints before the purchases: their PackageDelivered events leave a delivery to list and redeliver.
        var consoleOnboarding = new OnboardingService.OnboardingServiceClient(Onboarding.ChannelWithToken(ConsoleToken(accountId)));
        WebhookEndpointWithSecret Endpoint(string key) => consoleOnboarding.CreateWebhookEndpoint(new CreateWebhookEndpointRequest
        {
            IdempotencyKey = key, AccountId = accountId, Url = "https://hooks.example.com/faceid", EventTypes = { "package.delivered" },
        });
        var endpoint = Endpoint(TestIds.New("wh"));
        var deletable = Endpoint(TestIds.New("wh"));
        var packages = new PackagesService.PackagesServiceClient(Packages.Channel);
        var purchased = await packages.PurchasePackageAsync(new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "basic_self_photo", Size = 1000 });
        var refundable = await packages.PurchasePackageAsync(new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "basic_self_photo", Size = 1000 });
        var refundKey = TestIds.New("refund");
        var refund = await new RefundService.RefundServiceClient(Refund.Channel).RequestRefundAsync(new RequestRefundRequest
        {
            IdempotencyKey = refundKey, AccountId = accountId, PackageId = refundable.PackageId,
        });
        var requestId = TestIds.New("call");
        await new MeteringService.MeteringServiceClient(Metering.Channel).RecordUsageAsync(new RecordUsageRequest
        {
            Record = new UsageRecord
            {
                RequestId = requestId, AccountId = accountId, Label = "basic_authoritative", AccessMode = AccessMode.Saas,
                ReturnCode = "0", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            },
        });
        var topUpKey = TestIds.New("topup");
        await new BillingService.BillingServiceClient(Billing.Channel).TopUpAsync(new TopUpRequest { IdempotencyKey = topUpKey, AccountId = accountId, AmountFen = TopUpFen });
        var onboarding = new OnboardingService.OnboardingServiceClient(Onboarding.Channel);
        var application = (await onboarding.ListApplicationsAsync(new ListApplicationsRequest { AccountId = accountId })).Applications.Single();
        await onboarding.SubmitEnterpriseVerificationAsync(new SubmitEnterpriseVerificationRequest
        {
            IdempotencyKey = TestIds.New("verify"), AccountId = accountId, CompanyName = "福州某某科技有限公司",
            UnifiedSocialCreditCode = "91350100M000100Y43", LegalRepresentative = "韩梅梅",
        });
        var merchantIdKey = TestIds.New("merchant");
        var merchant = await onboarding.ApplyMerchantIdAsync(new ApplyMerchantIdRequest { IdempotencyKey = merchantIdKey, AccountId = accountId });
        var inbox = await Eventually.GetAsync(
            () => onboarding.ListInboxAsync(new ListInboxRequest { AccountId = accountId }).ResponseAsync,
            i => i.Messages.Count > 0, Timeout, "an in-site message (the trial delivery)");
        var deliveries = await Eventually.GetAsync(
            () => consoleOnboarding.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { AccountId = accountId, EndpointId = endpoint.Endpoint.EndpointId }).ResponseAsync,
            d => d.Deliveries.Count > 0, Timeout, "a webhook delivery (a package delivered)");
        return new ConsoleAccount(accountId, purchased.PackageId, refundable.PackageId, refundKey, refund.RefundId, requestId, application.ApplicationId,
            inbox.Messages[0].MessageId, await SettledBillAsync(accountId), merchantIdKey, merchant.ApplicationId,
            endpoint.Endpoint.EndpointId, deletable.Endpoint.EndpointId, deliveries.Deliveries[0].DeliveryId, topUpKey);
    }

    /// <summary>A real bill of the account's first (daily) period, read back from the running Billing service by the tests.</summary>
    private async Task<string> SettledBillAsync(string accountId) => (await SettleTodayAsync<BillingGrpcService>(accountId)).BillId;
}

/// <summary>An opened account and the ids of what it owns.</summary>
public sealed record ConsoleAccount(string AccountId, string PackageId, string RefundedPackageId, string RefundKey, string RefundId, string RequestId, string ApplicationId, string MessageId, string BillId,
    string MerchantIdKey, string MerchantApplicationId, string WebhookEndpointId, string DeletableWebhookEndpointId, string WebhookDeliveryId, string TopUpKey)
{
    public string Token => HttpPlatform.ConsoleToken(AccountId);
}

[CollectionDefinition(Name)]
public sealed class HttpPlatformCollection : ICollectionFixture<HttpPlatform>
{
    public const string Name = "local platform over HTTP/1.1";
}
