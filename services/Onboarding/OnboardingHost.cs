using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Onboarding.Application;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Onboarding.Application.Webhooks;
using FaceId.Onboarding.Grpc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FaceId.Onboarding;

/// <summary>Registration of the Onboarding service: a marker type for test hosts, too.</summary>
public static class OnboardingHost
{
    public const string AppId = "onboarding";

    /// <summary>The events Onboarding turns into notices and webhooks (docs/events.md, docs/webhooks.md).</summary>
    public static EventBusBuilder AddOnboardingSubscriptions(this EventBusBuilder events) => events
        .AddSubscription<PackageAlert, NotificationHandlers>()
        .AddSubscription<PackageDelivered, NotificationHandlers>()
        .AddSubscription<ApplicationReviewed, NotificationHandlers>()
        .AddSubscription<RefundCompleted, NotificationHandlers>()
        .AddSubscription<RefundRejected, NotificationHandlers>()
        .AddSubscription<BillIssued, NotificationHandlers>()
        .AddSubscription<ServiceSuspended, NotificationHandlers>()
        .AddSubscription<ServiceResumed, NotificationHandlers>()
        .AddSubscription<MerchantIdIssued, NotificationHandlers>()
        .AddSubscription<MerchantIdRejected, NotificationHandlers>();

    public static IServiceCollection AddOnboardingService(this IServiceCollection services)
    {
        services.AddOptions<DocumentStoreOptions>().BindConfiguration(DocumentStoreOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DocumentStore>();
        services.AddSingleton<AccountStore>();
        services.AddSingleton<AccountsApplication>();
        services.AddSingleton<ServiceApplications>();
        services.AddSingleton<EnterpriseStore>();
        services.AddSingleton<EnterpriseApplication>();

        services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<NotificationFileSink>();
        // Email: SMTP (MailKit) when Notifications:Smtp:Host is set, else the file sink. SMS: the
        // file sink unless a provider's ISmsSender is registered before this call.
        services.TryAddSingleton<IEmailSender>(sp =>
            string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<NotificationOptions>>().Value.Smtp.Host)
                ? ActivatorUtilities.CreateInstance<FileEmailSender>(sp)
                : ActivatorUtilities.CreateInstance<SmtpEmailSender>(sp));
        services.TryAddSingleton<ISmsSender, FileSmsSender>();
        services.AddSingleton<NotificationStore>();
        services.AddSingleton<NotificationDelivery>();
        services.AddSingleton<InboxApplication>();

        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AddressPolicy>();
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhooksApplication>();
        services.AddHostedService<WebhookDeliveryWorker>();
        return services;
    }

    public static WebApplication MapOnboardingService(this WebApplication app)
    {
        app.MapGrpcService<OnboardingGrpcService>();
        Http.LicenseRoute.Map(app);
        return app;
    }
}
