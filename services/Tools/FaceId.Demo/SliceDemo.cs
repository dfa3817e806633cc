using System.Diagnostics;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FaceId.Demo;

/// <summary>
/// The foundation's vertical slice, narrated: open an account's service through an approved
/// application, watch the free trial packages arrive over the event bus, meter one call against
/// them, and replay it to show it is charged once.
/// </summary>
public sealed class SliceDemo(PlatformClients platform, TextWriter log)
{
    /// <summary>The trace of the whole demonstration (printed first; the local run links the dashboard to it).</summary>
    public ActivityTraceId TraceId { get; } = ActivityTraceId.CreateRandom();

    public async Task<int> RunAsync(TimeSpan timeout)
    {
        // One trace for the whole demo: its id is sent as W3C traceparent on every call.
        var traceId = TraceId;
        var headers = new Metadata { { "traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01" } };
        var run = DateTime.UtcNow.ToString("yyyyMMddHHmmss");

        await Say($"Trace id of this demonstration: {traceId}");
        var account = await platform.Onboarding.CreateAccountAsync(new CreateAccountRequest
        {
            IdempotencyKey = "demo-account-" + run,
            DisplayName = "Demo Face Co.",
            Contacts = new Contacts { Email = "ops@example.com", Mobile = "13800138000", Name = "Li Lei" },
        }, headers);
        await Say($"1. Created main account {account.AccountId} (service: {account.ServiceState}).");

        using var upload = platform.Onboarding.SubmitApplication(headers);
        await upload.RequestStream.WriteAsync(new SubmitApplicationChunk
        {
            Form = new ApplicationForm
            {
                IdempotencyKey = "demo-application-" + run,
                AccountId = account.AccountId,
                BusinessScenario = "Remote account opening with liveness + face comparison.",
                Contact = account.Contacts,
                LicenseFileName = "license.png",
            },
        });
        await upload.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = ByteString.CopyFrom(DemoLicense.Png) });
        await upload.RequestStream.CompleteAsync();
        var application = await upload;
        await Say($"2. Submitted application {application.ApplicationId} with a {application.License.Type} business license ({application.License.SizeBytes} bytes, sha256 {application.License.Sha256[..12]}…).");

        var reviewed = await platform.Onboarding.ReviewApplicationAsync(new ReviewApplicationRequest
        {
            IdempotencyKey = "demo-review-" + run,
            ApplicationId = application.ApplicationId,
            Decision = ReviewDecision.Approve,
            ReviewerId = "demo-reviewer",
        }, headers);
        var opened = await platform.Onboarding.GetAccountAsync(new GetAccountRequest { AccountId = account.AccountId }, headers);
        await Say($"3. Reviewer approved it ({reviewed.Status}); service {opened.ServiceState}, price book {opened.PriceBook}, {opened.SettlementCycle} settlement.");

        await Say("4. Onboarding published faceid.service.activated.v1; waiting for Packages to grant the free trial (R-ONB-3)…");
        var deadline = DateTime.UtcNow + timeout;
        ListPackagesResponse packages;
        while (true)
        {
            try
            {
                packages = await platform.Packages.ListPackagesAsync(new ListPackagesRequest { AccountId = account.AccountId }, headers);
                if (packages.Packages.Count >= 6) break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // The account event has not reached Packages yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("trial packages did not arrive in time");
            await Task.Delay(200);
        }
        foreach (var p in packages.Packages)
            await Say($"   • {p.Label,-32} {p.Remaining,4}/{p.Size} calls, free, valid until {p.ExpiresAt.ToDateTimeOffset().ToOffset(TimeSpan.FromHours(8)):yyyy-MM-dd HH:mm} (UTC+8)");

        var record = new UsageRecord
        {
            RequestId = "demo-call-" + run,
            AccountId = account.AccountId,
            Channel = "liveness_verification_api",
            AccessMode = AccessMode.Saas,
            ReturnCode = "0",
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
        };
        var first = (await platform.Metering.RecordUsageAsync(new RecordUsageRequest { Record = record }, headers)).Outcome;
        await Say($"5. Metered one liveness verification (code 0): {first.Kind} → label {first.Label}, package {first.PackageId}, {first.PackageRemaining} calls left.");
        var replay = (await platform.Metering.RecordUsageAsync(new RecordUsageRequest { Record = record }, headers)).Outcome;
        await Say($"6. Replayed the same request id: duplicate={replay.Duplicate}, still {replay.PackageRemaining} calls left (R-PKG-5).");

        var ok = first.Kind == ChargeKind.Package && replay.Duplicate && replay.PackageId == first.PackageId;
        await Say(ok ? $"Slice succeeded. Trace id: {traceId}" : "Slice FAILED: the call was not charged to a trial package exactly once.");
        return ok ? 0 : 1;
    }

    private Task Say(string line) => log.WriteLineAsync(line);
}

/// <summary>A tiny valid PNG standing in for a scanned business license.</summary>
public static class DemoLicense
{
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
}
