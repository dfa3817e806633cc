using System.Text.Json.Nodes;

namespace FaceId.HttpJson.Tests;

/// <summary>One HTTP request of a case; <see cref="Token"/> null: the account's console token.</summary>
public sealed record Request(HttpMethod Method, string Path, JsonNode? Body = null, string? Token = null)
{
    public static Request Get(string path, string? token = null) => new(HttpMethod.Get, path, null, token);
    public static Request Post(string path, JsonNode body) => new(HttpMethod.Post, path, body);
    public static Request Put(string path, JsonNode body) => new(HttpMethod.Put, path, body);
    public static Request Patch(string path, JsonNode body) => new(HttpMethod.Patch, path, body);
    public static Request Delete(string path) => new(HttpMethod.Delete, path);
}

/// <summary>A bad request of a case and what it must answer: HTTP status, gRPC status, the field named (if any).</summary>
public sealed record BadInput(Request Request, int Status, string GrpcStatus, string? Field);

/// <summary>
/// One console-facing method over HTTP/JSON: the happy request and what its JSON answer holds, and a
/// bad request. The wrong-account request is derived from the happy one (the same caller, another
/// account in the path) unless the method is not account-scoped.
/// </summary>
public sealed record Case(string Service, string Rpc, Func<ConsoleAccount, Request> Happy, Func<ConsoleAccount, JsonNode, bool> Holds, Func<ConsoleAccount, BadInput> Bad, bool AccountScoped = true)
{
    public override string ToString() => $"{Service}/{Rpc}";
}

/// <summary>The table: every method annotated with google.api.http in protos/ has exactly one case (checked by a test).</summary>
public static class ConsoleMethods
{
    /// <summary>An account id the validators refuse; the caller is a console token bound to that very id, so only validation can refuse it.</summary>
    public const string MalformedAccount = "acc*bad";

    private static string Acct(ConsoleAccount a) => $"/v1/accounts/{a.AccountId}";

    private static BadInput MalformedAccountId(string suffix) =>
        new(Request.Get($"/v1/accounts/{MalformedAccount}{suffix}", HttpPlatform.ConsoleToken(MalformedAccount)), 400, "INVALID_ARGUMENT", "account_id");

    private static BadInput BadPageSize(ConsoleAccount a, string suffix) =>
        new(Request.Get($"{Acct(a)}{suffix}?page.pageSize=many"), 400, "INVALID_ARGUMENT", null);

    private static JsonObject Json(params (string Key, JsonNode? Value)[] fields) => new(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)));

    private static string Key() => Guid.NewGuid().ToString("N");

    public static IReadOnlyList<Case> All { get; } =
    [
        // ---- Packages
        new("FaceId.Packages", "GetCatalog",
            _ => Request.Get("/v1/catalog?priceBook=2021-06"),
            (_, j) => (string?)j["priceBook"] == "2021-06" && j["labels"]!.AsArray().Count >= 6,
            _ => new(Request.Get("/v1/catalog?priceBook=nope"), 400, "INVALID_ARGUMENT", "price_book"),
            AccountScoped: false),
        new("FaceId.Packages", "PurchasePackage",
            a => Request.Post($"{Acct(a)}/packages", Json(("orderId", Key()), ("label", "basic_authoritative"), ("size", 1000))),
            (a, j) => (string?)j["accountId"] == a.AccountId && (long?)j["size"] == 1000 && (string?)j["status"] == "PACKAGE_STATUS_ACTIVE",
            a => new(Request.Post($"{Acct(a)}/packages", Json(("orderId", Key()), ("label", "basic_authoritative"), ("size", 7))), 400, "INVALID_ARGUMENT", "size")),
        new("FaceId.Packages", "GetPackage",
            a => Request.Get($"{Acct(a)}/packages/{a.PackageId}"),
            (a, j) => (string?)j["packageId"] == a.PackageId && (long?)j["remaining"] == 1000,
            a => new(Request.Get($"{Acct(a)}/packages/pkg*bad"), 400, "INVALID_ARGUMENT", "package_id")),
        new("FaceId.Packages", "ListPackages",
            a => Request.Get($"{Acct(a)}/packages?label=basic_self_photo"),
            (a, j) => j["packages"]!.AsArray().Any(p => (string?)p!["packageId"] == a.PackageId),
            a => new(Request.Get($"{Acct(a)}/packages?status=BOGUS"), 400, "INVALID_ARGUMENT", null)),
        new("FaceId.Packages", "GetBalances",
            a => Request.Get($"{Acct(a)}/package-balances"),
            (_, j) => j["balances"]!.AsArray().Any(b => (string?)b!["label"] == "basic_self_photo" && (long?)b["remaining"] >= 1100),
            _ => MalformedAccountId("/package-balances")),

        // ---- Billing
        new("FaceId.Billing", "GetStatistics",
            a => Request.Get($"{Acct(a)}/statistics?granularity=GRANULARITY_DAY&from={DateTime.UtcNow.AddDays(-2):yyyy-MM-ddTHH:mm:ssZ}&to={DateTime.UtcNow.AddMinutes(1):yyyy-MM-ddTHH:mm:ssZ}"),
            (_, j) => j["rows"] is null or JsonArray,
            a => new(Request.Get($"{Acct(a)}/statistics?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"), 400, "INVALID_ARGUMENT", null)),
        new("FaceId.Billing", "GetBill",
            a => Request.Get($"{Acct(a)}/bills/{a.BillId}"),
            (a, j) => (string?)j["billId"] == a.BillId && (string?)j["accountId"] == a.AccountId,
            a => new(Request.Get($"{Acct(a)}/bills/bill*bad"), 400, "INVALID_ARGUMENT", "bill_id")),
        new("FaceId.Billing", "ListBills",
            a => Request.Get($"{Acct(a)}/bills"),
            (a, j) => j["bills"]!.AsArray().Any(b => (string?)b!["billId"] == a.BillId),
            a => BadPageSize(a, "/bills")),
        new("FaceId.Billing", "GetBalance",
            a => Request.Get($"{Acct(a)}/balance"),
            (a, j) => (string?)j["accountId"] == a.AccountId,
            _ => MalformedAccountId("/balance")),
        new("FaceId.Billing", "ListTopUps",
            a => Request.Get($"{Acct(a)}/top-ups"),
            (a, j) => j["topUps"]!.AsArray().Any(t => (string?)t!["idempotencyKey"] == a.TopUpKey && t["amountFen"]!.ToString() == HttpPlatform.TopUpFen.ToString()),
            a => BadPageSize(a, "/top-ups")),

        // ---- Refund
        new("FaceId.Refund", "RequestRefund",
            // The replay of the refund requested when the account was prepared: the same refund back.
            a => Request.Post($"{Acct(a)}/refunds", Json(("idempotencyKey", a.RefundKey), ("packageId", a.RefundedPackageId))),
            (a, j) => (string?)j["packageId"] == a.RefundedPackageId && (string?)j["refundId"] == a.RefundId,
            a => new(Request.Post($"{Acct(a)}/refunds", Json(("idempotencyKey", Key()))), 400, "INVALID_ARGUMENT", "package_id")),
        new("FaceId.Refund", "GetRefund",
            a => Request.Get($"{Acct(a)}/refunds/{a.RefundId}"),
            (a, j) => (string?)j["refundId"] == a.RefundId,
            a => new(Request.Get($"{Acct(a)}/refunds/ref*bad"), 400, "INVALID_ARGUMENT", "refund_id")),
        new("FaceId.Refund", "ListRefunds",
            a => Request.Get($"{Acct(a)}/refunds"),
            (a, j) => j["refunds"]!.AsArray().Any(r => (string?)r!["refundId"] == a.RefundId),
            a => BadPageSize(a, "/refunds")),
        new("FaceId.Refund", "ListRefundEligibility",
            // The refunded package: not refundable again, with RequestRefund's reason.
            a => Request.Get($"{Acct(a)}/refund-eligibility?packageId={a.RefundedPackageId}"),
            (a, j) => j["packages"]!.AsArray().Single() is { } p && (string?)p["packageId"] == a.RefundedPackageId
                && p["refundable"]?.GetValue<bool>() != true && (string?)p["reason"] == "REFUND_ALREADY_REQUESTED" && (string?)p["refundId"] == a.RefundId,
            a => new(Request.Get($"{Acct(a)}/refund-eligibility?packageId=pkg*bad"), 400, "INVALID_ARGUMENT", "package_id")),

        // ---- Metering
        new("FaceId.Metering", "GetUsageRecord",
            a => Request.Get($"{Acct(a)}/usage-records/{a.RequestId}"),
            (a, j) => (string?)j["requestId"] == a.RequestId && (string?)j["label"] == "basic_authoritative" && j["billable"]?.GetValue<bool>() == true,
            a => new(Request.Get($"{Acct(a)}/usage-records/req*bad"), 400, "INVALID_ARGUMENT", "request_id")),

        // ---- Onboarding
        new("FaceId.Onboarding", "GetAccount",
            a => Request.Get(Acct(a)),
            (a, j) => (string?)j["accountId"] == a.AccountId && (string?)j["serviceState"] == "SERVICE_STATE_OPENED",
            _ => MalformedAccountId("")),
        new("FaceId.Onboarding", "UpdateContacts",
            a => Request.Put($"{Acct(a)}/contacts", Json(("email", "finance@example.com"), ("mobile", "13900139000"), ("name", "Li Lei"))),
            (_, j) => (string?)j["contacts"]!["email"] == "finance@example.com",
            a => new(Request.Put($"{Acct(a)}/contacts", Json(("email", "not-an-email"), ("mobile", "13900139000"), ("name", "Li Lei"))), 400, "INVALID_ARGUMENT", "contacts.email")),
        new("FaceId.Onboarding", "CreateSubAccount",
            a => Request.Post($"/v1/accounts/{a.AccountId}/sub-accounts", Json(("idempotencyKey", Key()), ("displayName", "Branch office"))),
            (a, j) => (string?)j["mainAccountId"] == a.AccountId && (string?)j["accountId"] != a.AccountId,
            a => new(Request.Post($"/v1/accounts/{a.AccountId}/sub-accounts", Json(("displayName", "Branch office"))), 400, "INVALID_ARGUMENT", "idempotency_key")),
        new("FaceId.Onboarding", "ListSubAccounts",
            a => Request.Get($"{Acct(a)}/sub-accounts"),
            (_, j) => j["accounts"] is null or JsonArray,
            a => BadPageSize(a, "/sub-accounts")),
        new("FaceId.Onboarding", "ListApplications",
            a => Request.Get($"{Acct(a)}/applications"),
            (a, j) => j["applications"]!.AsArray().Any(x => (string?)x!["applicationId"] == a.ApplicationId),
            a => BadPageSize(a, "/applications")),
        new("FaceId.Onboarding", "SubmitEnterpriseVerification",
            a => Request.Post($"{Acct(a)}/enterprise-verification", Json(("idempotencyKey", Key()), ("companyName", "福州某某科技有限公司"),
                ("unifiedSocialCreditCode", "91350100M000100Y43"), ("legalRepresentative", "韩梅梅"))),
            (a, j) => (string?)j["accountId"] == a.AccountId && j["verified"]?.GetValue<bool>() == true,
            a => new(Request.Post($"{Acct(a)}/enterprise-verification", Json(("idempotencyKey", Key()), ("companyName", "福州某某科技有限公司"),
                ("unifiedSocialCreditCode", "91350100M000100Y42"), ("legalRepresentative", "韩梅梅"))), 400, "INVALID_ARGUMENT", "unified_social_credit_code")),
        new("FaceId.Onboarding", "GetEnterpriseVerification",
            a => Request.Get($"{Acct(a)}/enterprise-verification"),
            (a, j) => (string?)j["accountId"] == a.AccountId,
            _ => MalformedAccountId("/enterprise-verification")),
        new("FaceId.Onboarding", "ApplyMerchantId",
            // The replay of the application made when the account was prepared: the same application back.
            a => Request.Post($"{Acct(a)}/merchant-id", Json(("idempotencyKey", a.MerchantIdKey))),
            (a, j) => (string?)j["accountId"] == a.AccountId && (string?)j["applicationId"] == a.MerchantApplicationId,
            a => new(Request.Post($"{Acct(a)}/merchant-id", Json(("idempotencyKey", "bad key!"))), 400, "INVALID_ARGUMENT", "idempotency_key")),
        new("FaceId.Onboarding", "GetMerchantId",
            a => Request.Get($"{Acct(a)}/merchant-id"),
            (a, j) => (string?)j["accountId"] == a.AccountId,
            _ => MalformedAccountId("/merchant-id")),
        new("FaceId.Onboarding", "ListInbox",
            a => Request.Get($"{Acct(a)}/inbox"),
            (a, j) => j["messages"]!.AsArray().Any(m => (string?)m!["messageId"] == a.MessageId),
            a => new(Request.Get($"{Acct(a)}/inbox?unreadOnly=maybe"), 400, "INVALID_ARGUMENT", null)),
        new("FaceId.Onboarding", "MarkInboxRead",
            a => Request.Post($"{Acct(a)}/inbox:mark-read", Json(("messageIds", new JsonArray(a.MessageId)))),
            (_, j) => j["unreadCount"] is null or JsonValue,
            a => new(Request.Post($"{Acct(a)}/inbox:mark-read", Json(("messageIds", new JsonArray("msg*bad")))), 400, "INVALID_ARGUMENT", "message_ids[0]")),
        new("FaceId.Onboarding", "CreateWebhookEndpoint",
            a => Request.Post($"{Acct(a)}/webhooks", Json(("idempotencyKey", Key()), ("url", "https://hooks.example.com/new"), ("eventTypes", new JsonArray("refund.completed")))),
            (a, j) => ((string?)j["secret"])?.StartsWith("whsec_", StringComparison.Ordinal) == true && (string?)j["endpoint"]!["accountId"] == a.AccountId,
            a => new(Request.Post($"{Acct(a)}/webhooks", Json(("idempotencyKey", Key()), ("url", "https://hooks.example.com/new"), ("eventTypes", new JsonArray("package.bought")))),
                400, "INVALID_ARGUMENT", "event_types[0]")),
        new("FaceId.Onboarding", "ListWebhookEndpoints",
            a => Request.Get($"{Acct(a)}/webhooks"),
            (a, j) => j["endpoints"]!.AsArray().Any(e => (string?)e!["endpointId"] == a.WebhookEndpointId && e["secret"] is null),
            _ => MalformedAccountId("/webhooks")),
        new("FaceId.Onboarding", "UpdateWebhookEndpoint",
            a => Request.Patch($"{Acct(a)}/webhooks/{a.WebhookEndpointId}", Json(("description", "Finance system"))),
            (a, j) => (string?)j["endpointId"] == a.WebhookEndpointId && (string?)j["description"] == "Finance system",
            a => new(Request.Patch($"{Acct(a)}/webhooks/{a.WebhookEndpointId}", Json(("url", "http://169.254.169.254/latest/meta-data/"))), 400, "INVALID_ARGUMENT", "url")),
        new("FaceId.Onboarding", "SetWebhookEndpointEnabled",
            a => Request.Post($"{Acct(a)}/webhooks/{a.WebhookEndpointId}:set-enabled", Json(("enabled", true))),
            (a, j) => (string?)j["endpointId"] == a.WebhookEndpointId && (bool?)j["enabled"] == true,
            a => new(Request.Post($"{Acct(a)}/webhooks/we*bad:set-enabled", Json(("enabled", true))), 400, "INVALID_ARGUMENT", "endpoint_id")),
        new("FaceId.Onboarding", "DeleteWebhookEndpoint",
            a => Request.Delete($"{Acct(a)}/webhooks/{a.DeletableWebhookEndpointId}"),
            (_, j) => j is JsonObject { Count: 0 },
            a => new(Request.Delete($"{Acct(a)}/webhooks/we*bad"), 400, "INVALID_ARGUMENT", "endpoint_id")),
        new("FaceId.Onboarding", "RotateWebhookSecret",
            a => Request.Post($"{Acct(a)}/webhooks/{a.WebhookEndpointId}:rotate-secret", Json()),
            (a, j) => ((string?)j["secret"])?.StartsWith("whsec_", StringComparison.Ordinal) == true && j["endpoint"]!["previousSecretExpiresAt"] is not null,
            a => new(Request.Post($"{Acct(a)}/webhooks/{a.WebhookEndpointId}:rotate-secret", Json(("graceSeconds", 99_999_999))), 400, "INVALID_ARGUMENT", "grace_seconds")),
        new("FaceId.Onboarding", "ListWebhookDeliveries",
            a => Request.Get($"{Acct(a)}/webhooks/{a.WebhookEndpointId}/deliveries"),
            (a, j) => j["deliveries"]!.AsArray().Any(d => (string?)d!["deliveryId"] == a.WebhookDeliveryId && (string?)d["eventType"] == "package.delivered"),
            a => BadPageSize(a, $"/webhooks/{a.WebhookEndpointId}/deliveries")),
        new("FaceId.Onboarding", "RedeliverWebhook",
            a => Request.Post($"{Acct(a)}/webhooks/{a.WebhookEndpointId}/deliveries/{a.WebhookDeliveryId}:redeliver", Json()),
            (a, j) => (string?)j["deliveryId"] == a.WebhookDeliveryId && (string?)j["state"] == "WEBHOOK_DELIVERY_STATE_PENDING",
            a => new(Request.Post($"{Acct(a)}/webhooks/{a.WebhookEndpointId}/deliveries/msg*bad:redeliver", Json()), 400, "INVALID_ARGUMENT", "delivery_id")),
    ];
}
