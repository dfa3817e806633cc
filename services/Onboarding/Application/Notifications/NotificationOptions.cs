using System.ComponentModel.DataAnnotations;
using MailKit.Security;

namespace FaceId.Onboarding.Application.Notifications;

/// <summary>Configuration section "Notifications" (README.md, docs/api.md).</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>
    /// Folder of the file sink (email.jsonl, sms.jsonl) used for email when no SMTP host is set and
    /// for SMS unless a provider's <see cref="ISmsSender"/> is registered. Relative to the working directory.
    /// </summary>
    public string SinkDirectory { get; set; } = Path.Combine("data", "notifications");

    /// <summary>
    /// How long a claim on an email or SMS delivery holds (claimed → sent). A delivery found
    /// claimed is retried later; after the lease a crashed claimant's delivery is sent again.
    /// Keep it below EventBus:ProcessingTimeoutMs × (EventBus:MaxDeliveryAttempts − 1).
    /// </summary>
    [Range(1, 3600)]
    public int ClaimLeaseSeconds { get; set; } = 60;

    /// <summary>Lifetime of the per-(event, channel) delivery markers; longer than any redelivery (30-day event retention).</summary>
    [Range(1, 3650)]
    public int MarkerRetentionDays { get; set; } = 90;

    public SmtpOptions Smtp { get; set; } = new();
}

public sealed class SmtpOptions
{
    /// <summary>SMTP server; when empty, email goes to the file sink.</summary>
    public string Host { get; set; } = "";

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary>MailKit SecureSocketOptions: None, Auto, SslOnConnect, StartTls, StartTlsWhenAvailable.</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.StartTlsWhenAvailable;

    /// <summary>Authenticates when set.</summary>
    public string UserName { get; set; } = "";

    public string Password { get; set; } = "";

    public string From { get; set; } = "noreply@faceid.local";

    public string FromName { get; set; } = "FaceID";

    [Range(1000, 300_000)]
    public int TimeoutMs { get; set; } = 30_000;
}
