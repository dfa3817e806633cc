using FaceId.Contracts.Events.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace FaceId.Contracts;

/// <summary>
/// The topic of every integration event: explicit, versioned constants (not CLR type names),
/// shared by publishers, subscribers, the Dapr components and docs/events.md.
/// </summary>
public static class EventTopics
{
    public const string AccountCreated = "faceid.accounts.created.v1";
    public const string ServiceActivated = "faceid.service.activated.v1";
    public const string ServiceSuspended = "faceid.service.suspended.v1";
    public const string ServiceResumed = "faceid.service.resumed.v1";
    public const string ApplicationReviewed = "faceid.onboarding.application-reviewed.v1";
    public const string EnterpriseVerified = "faceid.onboarding.enterprise-verified.v1";
    public const string MerchantIdIssued = "faceid.onboarding.merchant-id-issued.v1";
    public const string MerchantIdRejected = "faceid.onboarding.merchant-id-rejected.v1";
    public const string PackageDelivered = "faceid.packages.delivered.v1";
    public const string PackageAlert = "faceid.packages.alert.v1";
    public const string UsageCharged = "faceid.usage.charged.v1";
    public const string UsageBackdated = "faceid.usage.backdated.v1";
    public const string RefundCompleted = "faceid.refunds.completed.v1";
    public const string RefundRejected = "faceid.refunds.rejected.v1";
    public const string BillIssued = "faceid.billing.bill-issued.v1";

    private static readonly Dictionary<MessageDescriptor, string> ByDescriptor = new()
    {
        [Events.V1.AccountCreated.Descriptor] = AccountCreated,
        [Events.V1.ServiceActivated.Descriptor] = ServiceActivated,
        [Events.V1.ServiceSuspended.Descriptor] = ServiceSuspended,
        [Events.V1.ServiceResumed.Descriptor] = ServiceResumed,
        [Events.V1.ApplicationReviewed.Descriptor] = ApplicationReviewed,
        [Events.V1.EnterpriseVerified.Descriptor] = EnterpriseVerified,
        [Events.V1.MerchantIdIssued.Descriptor] = MerchantIdIssued,
        [Events.V1.MerchantIdRejected.Descriptor] = MerchantIdRejected,
        [Events.V1.PackageDelivered.Descriptor] = PackageDelivered,
        [Events.V1.PackageAlert.Descriptor] = PackageAlert,
        [Events.V1.UsageCharged.Descriptor] = UsageCharged,
        [Events.V1.UsageBackdated.Descriptor] = UsageBackdated,
        [Events.V1.RefundCompleted.Descriptor] = RefundCompleted,
        [Events.V1.RefundRejected.Descriptor] = RefundRejected,
        [Events.V1.BillIssued.Descriptor] = BillIssued,
    };

    public static IReadOnlyCollection<string> All => ByDescriptor.Values;

    public static string For(MessageDescriptor descriptor) =>
        ByDescriptor.TryGetValue(descriptor, out var topic)
            ? topic
            : throw new InvalidOperationException($"{descriptor.FullName} is not an integration event with a topic.");

    public static string For<T>() where T : IMessage<T>, new() => For(new T().Descriptor);
}
