using FaceId.Contracts;
using FaceId.Contracts.Onboarding.V1;
using FaceId.EventBus;
using FaceId.Onboarding.Grpc;
using FaceId.Redis;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Platform.Tests;

/// <summary>Applications with a business license, and their review (R-ONB-1, R-ONB-2).</summary>
public sealed class ApplicationTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly string _documents = Path.Combine(Path.GetTempPath(), TestIds.New("docs"));
    private InProcessService<OnboardingGrpcService> _onboarding = null!;

    public Task InitializeAsync()
    {
        var config = Hosts.Config(redis.ConnectionString, _documents);
        config["Documents:MaxBytes"] = "4096";
        _onboarding = new InProcessService<OnboardingGrpcService>(config).Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _onboarding.DisposeAsync();
        if (Directory.Exists(_documents)) Directory.Delete(_documents, recursive: true);
    }

    private string[] StoredDocuments() =>
        Directory.Exists(Path.Combine(_documents, "sha256")) ? Directory.GetFiles(Path.Combine(_documents, "sha256"), "*", SearchOption.AllDirectories) : [];

    [Fact]
    public async Task R_ONB_1_a_PNG_named_pdf_is_accepted_as_PNG_and_stored_under_its_sha256()
    {
        var account = await Scenario.CreateAccountAsync(_onboarding.Channel);
        var application = await Scenario.SubmitAsync(_onboarding.Channel, account.AccountId, Scenario.Png, fileName: "license.pdf");

        Assert.Equal(DocumentType.Png, application.License.Type);
        Assert.Equal(Scenario.Png.Length, application.License.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Scenario.Png)), application.License.Sha256);
        Assert.Contains(StoredDocuments(), f => Path.GetFileName(f) == application.License.Sha256);
        Assert.Equal(ApplicationStatus.Pending, application.Status);
    }

    [Theory]
    [InlineData("exe")]
    [InlineData("empty")]
    [InlineData("too-large")]
    public async Task R_ONB_1_an_EXE_an_empty_or_an_oversized_license_is_rejected_and_nothing_is_stored(string kind)
    {
        var account = await Scenario.CreateAccountAsync(_onboarding.Channel);
        var bytes = kind switch
        {
            "exe" => [(byte)'M', (byte)'Z', 0x90, 0, 3, 0, 0, 0, 4, 0],
            "empty" => [],
            _ => Scenario.Png.Concat(new byte[5000]).ToArray(),
        };
        var before = StoredDocuments().Length;

        var fields = await RpcAssert.InvalidArgumentAsync(() => Scenario.SubmitAsync(_onboarding.Channel, account.AccountId, bytes, fileName: "license.pdf"));

        Assert.Equal(["license_chunk"], fields);
        Assert.Equal(before, StoredDocuments().Length);
        var apps = await new OnboardingService.OnboardingServiceClient(_onboarding.Channel).ListApplicationsAsync(new ListApplicationsRequest { AccountId = account.AccountId });
        Assert.Empty(apps.Applications);
    }

    [Fact]
    public async Task R_ONB_2_two_reviewers_approving_concurrently_open_the_service_once()
    {
        var account = await Scenario.CreateAccountAsync(_onboarding.Channel);
        var application = await Scenario.SubmitAsync(_onboarding.Channel, account.AccountId, Scenario.Png);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Scenario.ApproveAsync(_onboarding.Channel, application.ApplicationId, $"reviewer-{i}")));

        Assert.All(results, r => Assert.Equal(ApplicationStatus.Approved, r.Status));
        var reviewed = await new OnboardingService.OnboardingServiceClient(_onboarding.Channel).GetApplicationAsync(new GetApplicationRequest { ApplicationId = application.ApplicationId });
        Assert.Equal(2, reviewed.History.Count); // pending, approved — once
        var activations = await Eventually.GetAsync(
            async () => (await redis.Database.StreamRangeAsync(EventTopics.ServiceActivated))
                .Select(e => CloudEvent.Parse((byte[])e["data"]!))
                .Where(e => e.DataJson.Contains(account.AccountId)).ToList(),
            list => list.Count >= 1, Scenario.Timeout, "the activation is published");
        Assert.Single(activations);
    }

    [Fact]
    public async Task A_second_application_while_one_is_pending_is_refused()
    {
        var account = await Scenario.CreateAccountAsync(_onboarding.Channel);
        await Scenario.SubmitAsync(_onboarding.Channel, account.AccountId, Scenario.Png);

        var reason = await RpcAssert.FailedPreconditionAsync(() => Scenario.SubmitAsync(_onboarding.Channel, account.AccountId, Scenario.Png));

        Assert.Equal("APPLICATION_PENDING", reason);
    }
}
