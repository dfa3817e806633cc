namespace FaceId.Common;

/// <summary>
/// The longest value (in characters) every string field of a request may carry, by proto field name
/// (docs/api.md, "Bounded requests and errors"). The gRPC pipeline checks every string field of every
/// request message against it before anything else reads the request; domain validation keeps its
/// own rules (formats, required fields) within these lengths.
/// </summary>
public static class FieldLimits
{
    /// <summary>Any string field not named below (health's service name, reflection's symbols, ...).</summary>
    public const int Default = 1024;
    /// <summary>Identifiers: <c>*_id</c>, <c>*_ids</c>, <c>idempotency_key</c>, and opaque page tokens.</summary>
    public const int Id = InputValidator.MaxIdLength;
    /// <summary>Catalog and code values: labels, channels, price books, return codes, topics, event types.</summary>
    public const int CatalogValue = 64;
    public const int Url = 2048;
    public const int Reason = 500;
    public const int WebhookDescription = 200;
    public const int BusinessScenario = 2_000;
    public const int FileName = 255;
    public const int PersonOrDisplayName = 100;
    public const int CompanyName = 200;
    public const int Email = 254;
    /// <summary>Short codes whose exact form the domain checks (mobile numbers, credit codes): room for its precise message.</summary>
    public const int ShortCode = 64;

    /// <summary>The limit of the string field named <paramref name="fieldName"/> (the proto name, e.g. <c>request_id</c>).</summary>
    public static int For(string fieldName) => fieldName switch
    {
        "idempotency_key" or "page_token" => Id,
        _ when fieldName.EndsWith("_id", StringComparison.Ordinal) || fieldName.EndsWith("_ids", StringComparison.Ordinal) => Id,
        "label" or "channel" or "price_book" or "return_code" or "topic" or "event_types" => CatalogValue,
        "url" => Url,
        "reason" => Reason,
        "description" => WebhookDescription,
        "business_scenario" => BusinessScenario,
        "license_file_name" => FileName,
        "display_name" or "name" or "legal_representative" => PersonOrDisplayName,
        "company_name" => CompanyName,
        "email" => Email,
        "mobile" or "unified_social_credit_code" => ShortCode,
        _ => Default,
    };
}
