using System.Diagnostics;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.LoadGen;

/// <summary>
/// Opens accounts the way a customer does (Onboarding: CreateAccount, SubmitApplication with a
/// license, ReviewApplication approve → the activation event → Packages opens the service and
/// grants the 6 trial packages), then buys packages with distinct order ids through Packages.
/// </summary>
public sealed class Prepare(GrpcChannel onboarding, GrpcChannel packages, TextWriter log)
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    private readonly OnboardingService.OnboardingServiceClient _onboarding = new(onboarding);
    private readonly PackagesService.PackagesServiceClient _packages = new(packages);

    public async Task<string> OpenAccountAsync(string name, TimeSpan timeout)
    {
        var run = Guid.NewGuid().ToString("N")[..12];
        var contacts = new Contacts { Email = "bench@example.com", Mobile = "13800138000", Name = "Bench Mark" };
        var account = await _onboarding.CreateAccountAsync(new CreateAccountRequest
        {
            IdempotencyKey = $"bench-account-{run}",
            DisplayName = $"Benchmark {name}",
            Contacts = contacts,
        });
        using (var upload = _onboarding.SubmitApplication())
        {
            await upload.RequestStream.WriteAsync(new SubmitApplicationChunk
            {
                Form = new ApplicationForm
                {
                    IdempotencyKey = $"bench-application-{run}",
                    AccountId = account.AccountId,
                    BusinessScenario = "Load test",
                    Contact = contacts,
                    LicenseFileName = "license.png",
                },
            });
            await upload.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = ByteString.CopyFrom(Png) });
            await upload.RequestStream.CompleteAsync();
            var application = await upload;
            await _onboarding.ReviewApplicationAsync(new ReviewApplicationRequest
            {
                IdempotencyKey = $"bench-review-{run}",
                ApplicationId = application.ApplicationId,
                Decision = ReviewDecision.Approve,
                ReviewerId = "bench-reviewer",
            });
        }
        // The trial grant (6 packages) proves the activation reached Packages: the service is open in the ledger.
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var list = await _packages.ListPackagesAsync(new ListPackagesRequest { AccountId = account.AccountId });
                if (list.Packages.Count >= 6) break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // The account event has not reached Packages yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the trial packages of {account.AccountId} did not arrive in {timeout.TotalSeconds:0}s");
            await Task.Delay(50);
        }
        return account.AccountId;
    }

    /// <summary>Buys <paramref name="count"/> packages, <paramref name="parallel"/> orders at a time; returns purchases per second.</summary>
    public async Task<double> PurchaseAsync(string accountId, string label, long size, int count, int parallel)
    {
        if (count == 0) return 0;
        var sw = Stopwatch.StartNew();
        var next = -1;
        var done = 0;
        async Task Buyer()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var p = await _packages.PurchasePackageAsync(new PurchasePackageRequest
                {
                    OrderId = $"bench-{accountId}-{i}",
                    AccountId = accountId,
                    Label = label,
                    Size = size,
                });
                if (p.Size != size || p.Label != label) throw new InvalidOperationException($"order {i} answered {p.Label}/{p.Size}");
                var d = Interlocked.Increment(ref done);
                if (d % 2000 == 0) await log.WriteLineAsync($"  {accountId}: {d}/{count} packages bought");
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, parallel)).Select(_ => Task.Run(Buyer)));
        var rate = count / sw.Elapsed.TotalSeconds;
        var balances = await _packages.GetBalancesAsync(new GetBalancesRequest { AccountId = accountId });
        var active = balances.Balances.Where(b => b.Label == label).Select(b => b.ActivePackages).FirstOrDefault();
        if (active < count) throw new InvalidOperationException($"{accountId}: {active} active {label} packages after buying {count}");
        await log.WriteLineAsync($"  {accountId}: {count} × {size} {label} bought in {sw.Elapsed.TotalSeconds:F1}s ({rate:F0}/s); {active} active packages of the label");
        return rate;
    }
}
