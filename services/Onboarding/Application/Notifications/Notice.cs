using FaceId.Common;
using FaceId.Contracts.Events.V1;

namespace FaceId.Onboarding.Application.Notifications;

/// <summary>
/// A message for a main account, made from one integration event (<see cref="EventId"/>), to be
/// delivered once on each channel. <see cref="Email"/> / <see cref="Mobile"/> override the
/// account's contacts (an application result goes to the application's contact).
/// </summary>
public sealed record Notice(string EventId, string AccountId, string Kind, string Title, string Body, string? Email = null, string? Mobile = null);

/// <summary>The texts of the notices (short Chinese + English), one per event kind.</summary>
public static class Notices
{
    public static Notice For(string eventId, PackageAlert e)
    {
        var what = $"资源包 {e.PackageId}（{e.Label}）";
        var en = $"Package {e.PackageId} ({e.Label})";
        var expires = e.ExpiresAt is null ? "" : ChinaCalendar.DayKey(e.ExpiresAt.ToDateTimeOffset());
        return e.Kind switch
        {
            PackageAlertKind.LowBalance => new Notice(eventId, e.AccountId, "package.low_balance", "资源包余量不足 / Package balance low",
                $"{what}剩余 {e.Remaining}/{e.Size} 次，已低于 20%。{en} has {e.Remaining} of {e.Size} calls left (below 20%)."),
            PackageAlertKind.Exhausted => new Notice(eventId, e.AccountId, "package.exhausted", "资源包已用完 / Package used up",
                $"{what}已用完，之后的调用按后付费计费。{en} is used up; further calls are billed postpaid."),
            PackageAlertKind.Expiring7D => new Notice(eventId, e.AccountId, "package.expiring_7d", "资源包 7 天后到期 / Package expires in 7 days",
                $"{what}将于 {expires} 到期，剩余 {e.Remaining} 次。{en} expires on {expires} with {e.Remaining} calls left."),
            PackageAlertKind.Expiring1D => new Notice(eventId, e.AccountId, "package.expiring_1d", "资源包明天到期 / Package expires tomorrow",
                $"{what}将于 {expires} 到期，剩余 {e.Remaining} 次。{en} expires on {expires} with {e.Remaining} calls left."),
            PackageAlertKind.Expired => new Notice(eventId, e.AccountId, "package.expired", "资源包已过期 / Package expired",
                $"{what}已过期，剩余 {e.Remaining} 次作废。{en} has expired; its {e.Remaining} unused calls are void."),
            // A kind this build does not know fails the event's handling (retried, then dead-lettered), never "no notice".
            _ => throw new InvalidOperationException($"unknown package alert kind '{e.Kind}'"),
        };
    }

    public static Notice For(string eventId, PackageDelivered e)
    {
        var expires = e.ExpiresAt is null ? "" : ChinaCalendar.DayKey(e.ExpiresAt.ToDateTimeOffset());
        var (zh, en) = e.Free ? ("赠送资源包", "Free package") : ("资源包", "Package");
        return new Notice(eventId, e.AccountId, "package.delivered", "资源包已到账 / Package delivered",
            $"{zh} {e.PackageId}（{e.Label}，{e.Size} 次）已到账，有效期至 {expires}。" +
            $"{en} {e.PackageId} ({e.Label}, {e.Size} calls) is ready to use until {expires}.");
    }

    public static Notice For(string eventId, ApplicationReviewed e, string? email, string? mobile) => e.Approved
        ? new Notice(eventId, e.AccountId, "application.approved", "开通申请已通过 / Application approved",
            $"申请 {e.ApplicationId} 已通过审核，服务已开通。Application {e.ApplicationId} was approved; the service is open.", email, mobile)
        : new Notice(eventId, e.AccountId, "application.rejected", "开通申请未通过 / Application rejected",
            $"申请 {e.ApplicationId} 未通过审核，原因：{e.Reason}。Application {e.ApplicationId} was rejected: {e.Reason}", email, mobile);

    public static Notice For(string eventId, RefundCompleted e) =>
        new(eventId, e.AccountId, "refund.completed", "退款已完成 / Refund completed",
            $"资源包 {e.PackageId} 的退款 {e.RefundId} 已完成，{Cny.FromFen(e.AmountFen)} 元已退回账户余额。" +
            $"Refund {e.RefundId} of package {e.PackageId} is complete: CNY {Cny.FromFen(e.AmountFen)} went back to your balance.");

    /// <summary>Only a bill that put the account in arrears is notified.</summary>
    public static Notice? For(string eventId, BillIssued e) => !e.InArrears ? null
        : new Notice(eventId, e.AccountId, "billing.arrears", "账单欠费 / Bill in arrears",
            $"账单 {e.BillId} 金额 {Cny.FromFen(e.TotalFen)} 元，余额不足，账户已欠费；24 小时内未结清将暂停服务。" +
            $"Bill {e.BillId} of CNY {Cny.FromFen(e.TotalFen)} is not covered by your balance; the service is suspended if it is not paid within 24 hours.");

    public static Notice For(string eventId, ServiceSuspended e) =>
        new(eventId, e.AccountId, "service.suspended", "服务已暂停 / Service suspended",
            $"因欠费（账单 {e.BillId}）服务已暂停，结清后自动恢复。The service is suspended for arrears (bill {e.BillId}); it resumes by itself once paid.");
}
