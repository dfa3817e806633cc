using System.Collections.Concurrent;
using System.Diagnostics;
using FaceId.Auth;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Billing.Grpc;
using FaceId.Metering.Grpc;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace FaceId.Security.Tests;

/// <summary>Per-caller rate limits answer RESOURCE_EXHAUSTED; personal data never reaches logs or spans.</summary>
public sealed class RateLimitAndRedactionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task A_caller_over_its_rate_limit_gets_RESOURCE_EXHAUSTED_and_other_callers_are_unaffected()
    {
        var config = new Dictionary<string, string?> { ["Redis:ConnectionString"] = redis.ConnectionString, ["RateLimits:PermitsPerMinute"] = "3" };
        await using var billing = new InProcessService<BillingGrpcService>(config).Start();
        var account = TestIds.New("acct");
        var request = new GetStatisticsRequest
        {
            AccountId = account, Granularity = Granularity.Day,
            From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)), To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        var busy = new BillingService.BillingServiceClient(billing.ChannelWithToken(TestAuth.Token(Roles.Console, account)));

        var codes = new List<StatusCode>();
        for (var i = 0; i < 5; i++)
        {
            try { await busy.GetStatisticsAsync(request); codes.Add(StatusCode.OK); }
            catch (RpcException e) { codes.Add(e.StatusCode); }
        }
        // The account has no statistics yet (NOT_FOUND) — what matters is that calls 4 and 5 never reach the service.
        Assert.Equal([StatusCode.NotFound, StatusCode.NotFound, StatusCode.NotFound, StatusCode.ResourceExhausted, StatusCode.ResourceExhausted], codes);
        var operatorClient = new BillingService.BillingServiceClient(billing.ChannelWithToken(TestAuth.OperatorToken));
        var fresh = await Assert.ThrowsAsync<RpcException>(() => operatorClient.GetStatisticsAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, fresh.StatusCode); // another caller has its own bucket
    }

    [Fact]
    public async Task Personal_data_and_tokens_never_appear_in_logs_or_spans()
    {
        var logs = new ConcurrentQueue<string>();
        var spans = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => spans.Enqueue(a.DisplayName + " " + string.Join(" ", a.TagObjects.Select(t => $"{t.Key}={t.Value}"))
                + " " + string.Join(" ", a.Events.Select(e => e.Name + string.Join(" ", e.Tags.Select(t => t.Value))))),
        };
        ActivitySource.AddActivityListener(listener);
        var config = new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = redis.ConnectionString,
            ["Documents:Directory"] = Path.Combine(Path.GetTempPath(), TestIds.New("docs")),
            ["Notifications:SinkDirectory"] = Path.Combine(Path.GetTempPath(), TestIds.New("sink")),
            ["Logging:LogLevel:Default"] = "Trace",
        };
        void Capture(IServiceCollection s) => s.AddLogging(b => b.AddProvider(new CapturingLoggerProvider(logs)).SetMinimumLevel(LogLevel.Trace));
        await using var onboarding = new InProcessService<OnboardingGrpcService>(config, Capture).Start();
        await using var packages = new InProcessService<PackagesGrpcService>(config, Capture).Start();
        await using var metering = new InProcessService<MeteringGrpcService>(config, Capture).Start();

        const string mobile = "13912345678", email = "li.lei.private@example.cn", creditCode = "91350100M000100Y43", person = "李雷";
        var client = new OnboardingService.OnboardingServiceClient(onboarding.Channel);
        var account = await client.CreateAccountAsync(new CreateAccountRequest
        {
            IdempotencyKey = TestIds.New("k"), DisplayName = "Redaction Co.", Contacts = new Contacts { Email = email, Mobile = mobile, Name = person },
        });
        var application = await Scenario.SubmitAsync(onboarding.Channel, account.AccountId, mobile, email, person);
        await client.ReviewApplicationAsync(new ReviewApplicationRequest { IdempotencyKey = TestIds.New("r"), ApplicationId = application.ApplicationId, Decision = ReviewDecision.Approve, ReviewerId = "rev" });
        await client.SubmitEnterpriseVerificationAsync(new SubmitEnterpriseVerificationRequest
        {
            IdempotencyKey = TestIds.New("e"), AccountId = account.AccountId, CompanyName = "Redaction Co.", UnifiedSocialCreditCode = creditCode, LegalRepresentative = person,
        });
        var denied = await Assert.ThrowsAsync<RpcException>(() => new OnboardingService.OnboardingServiceClient(onboarding.ChannelWithToken(TestAuth.Token(Roles.Console, "someone-else")))
            .GetAccountAsync(new GetAccountRequest { AccountId = account.AccountId }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        await Eventually.AssertAsync(() => Task.FromResult(logs.Count > 0 && spans.Count > 0), TimeSpan.FromSeconds(10), "logs and spans were captured");

        var everything = string.Join("\n", logs) + "\n" + string.Join("\n", spans);
        foreach (var secret in new[] { mobile, email, creditCode, person, TestAuth.OperatorToken, TestAuth.SigningKey, Convert.ToBase64String(Scenario.License) })
            Assert.DoesNotContain(secret, everything);
        Assert.Contains("Denied", everything); // the cross-account attempt is logged, without the data
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, sink);
        public void Dispose() { }

        private sealed class Logger(string category, ConcurrentQueue<string> sink) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                sink.Enqueue($"scope {category}: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {state} {exception}");
        }
    }
}

internal static class Scenario
{
    public static readonly byte[] License = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public static async Task<Application> SubmitAsync(Grpc.Net.Client.GrpcChannel channel, string accountId, string mobile, string email, string person)
    {
        using var call = new OnboardingService.OnboardingServiceClient(channel).SubmitApplication();
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk
        {
            Form = new ApplicationForm
            {
                IdempotencyKey = TestIds.New("a"), AccountId = accountId, BusinessScenario = "KYC", LicenseFileName = "license.png",
                Contact = new Contacts { Email = email, Mobile = mobile, Name = person },
            },
        });
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = Google.Protobuf.ByteString.CopyFrom(License) });
        await call.RequestStream.CompleteAsync();
        return await call;
    }
}
