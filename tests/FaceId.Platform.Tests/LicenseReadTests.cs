using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FaceId.Auth;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Onboarding.Grpc;
using FaceId.Redis;
using FaceId.TestKit;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Platform.Tests;

/// <summary>
/// A reviewer reads the business license it judges: ReadLicenseDocument streams the stored bytes
/// (metadata first, then chunks of at most 64 KiB), every authorized read of an existing document is
/// recorded in the application's license_reads, and the raw HTTP route serves the same bytes.
/// </summary>
public sealed class LicenseReadTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly string _documents = Path.Combine(Path.GetTempPath(), TestIds.New("docs"));
    private InProcessService<OnboardingGrpcService> _onboarding = null!;

    /// <summary>200 KiB that start like a PNG: four chunks on the way in and out.</summary>
    private static readonly byte[] BigPng = MakeBigPng();

    private static byte[] MakeBigPng()
    {
        var bytes = new byte[200 * 1024];
        new Random(20261126).NextBytes(bytes);
        Scenario.Png.AsSpan(0, 8).CopyTo(bytes);
        return bytes;
    }

    public Task InitializeAsync()
    {
        _onboarding = new InProcessService<OnboardingGrpcService>(Hosts.Config(redis.ConnectionString, _documents)).Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _onboarding.DisposeAsync();
        if (Directory.Exists(_documents)) Directory.Delete(_documents, recursive: true);
    }

    private OnboardingService.OnboardingServiceClient Client(string token) => new(_onboarding.ChannelWithToken(token));

    private static async Task<(LicenseDocumentInfo? Info, byte[] Bytes, List<int> Chunks)> ReadAsync(OnboardingService.OnboardingServiceClient client, string account, string application)
    {
        using var call = client.ReadLicenseDocument(new ReadLicenseDocumentRequest { AccountId = account, ApplicationId = application });
        LicenseDocumentInfo? info = null;
        var bytes = new MemoryStream();
        var chunks = new List<int>();
        var first = true;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var m = call.ResponseStream.Current;
            if (first) Assert.Equal(LicenseDocumentChunk.PartOneofCase.Info, m.PartCase);
            else Assert.Equal(LicenseDocumentChunk.PartOneofCase.Data, m.PartCase);
            first = false;
            if (m.PartCase == LicenseDocumentChunk.PartOneofCase.Info) info = m.Info;
            else
            {
                chunks.Add(m.Data.Length);
                m.Data.WriteTo(bytes);
            }
        }
        return (info, bytes.ToArray(), chunks);
    }

    private async Task<Application> SubmitBigAsync(string? fileName = "scan.png")
    {
        var account = await Scenario.CreateAccountAsync(_onboarding.Channel);
        return await Scenario.SubmitAsync(_onboarding.Channel, account.AccountId, BigPng, fileName: fileName ?? "");
    }

    private Task<Application> GetAsync(string id) => Client(TestAuth.OperatorToken).GetApplicationAsync(new GetApplicationRequest { ApplicationId = id }).ResponseAsync;

    private async Task<Dictionary<string, string>> SnapshotAsync() => await RedisSnapshot.TakeAsync(redis.Connection);

    [Fact]
    public async Task A_reviewer_reads_the_exact_bytes_in_chunks_of_at_most_64_KiB_with_the_sniffed_type_and_the_read_is_recorded()
    {
        var app = await SubmitBigAsync();
        var before = DateTimeOffset.UtcNow;

        var (info, bytes, chunks) = await ReadAsync(Client(TestAuth.Minter.Mint("alice", [Roles.Reviewer])), app.AccountId, app.ApplicationId);

        Assert.NotNull(info);
        Assert.Equal("image/png", info.ContentType);
        Assert.Equal(DocumentType.Png, info.Type);
        Assert.Equal(BigPng.Length, info.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(BigPng)), info.Sha256);
        Assert.Equal("scan.png", info.FileName);
        Assert.Equal(BigPng, bytes);
        Assert.True(chunks.Count >= 4, $"{chunks.Count} chunks");
        Assert.All(chunks, c => Assert.InRange(c, 1, 64 * 1024));

        var read = Assert.Single((await GetAsync(app.ApplicationId)).LicenseReads);
        Assert.Equal("alice", read.Subject);
        Assert.Equal([Roles.Reviewer], read.Roles);
        Assert.Equal(info.Sha256, read.Sha256);
        Assert.InRange(read.At.ToDateTimeOffset(), before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task The_owning_console_may_read_its_license_and_reads_are_listed_newest_first()
    {
        var app = await SubmitBigAsync();
        await ReadAsync(Client(TestAuth.Minter.Mint("bob", [Roles.Reviewer])), app.AccountId, app.ApplicationId);
        var (info, bytes, _) = await ReadAsync(Client(TestAuth.Minter.Mint("console-user", [Roles.Console], app.AccountId)), app.AccountId, app.ApplicationId);

        Assert.Equal(BigPng, bytes);
        Assert.Equal("image/png", info!.ContentType);
        var reads = (await GetAsync(app.ApplicationId)).LicenseReads;
        Assert.Equal(["console-user", "bob"], reads.Select(r => r.Subject));
        // ListApplications carries the log as well.
        var listed = await Client(TestAuth.OperatorToken).ListApplicationsAsync(new ListApplicationsRequest { AccountId = app.AccountId });
        Assert.Equal(2, Assert.Single(listed.Applications).LicenseReads.Count);
    }

    [Fact]
    public async Task The_read_log_keeps_the_latest_100_reads()
    {
        var app = await Scenario.SubmitAsync(_onboarding.Channel, (await Scenario.CreateAccountAsync(_onboarding.Channel)).AccountId, Scenario.Png);
        for (var i = 0; i < 103; i++)
            await ReadAsync(Client(TestAuth.Minter.Mint($"reader-{i}", [Roles.Reviewer])), app.AccountId, app.ApplicationId);
        var reads = (await GetAsync(app.ApplicationId)).LicenseReads;
        Assert.Equal(100, reads.Count);
        Assert.Equal("reader-102", reads[0].Subject);
        Assert.Equal("reader-3", reads[^1].Subject);
    }

    [Fact]
    public async Task Another_accounts_application_is_NOT_FOUND_like_an_unknown_one_and_is_not_recorded()
    {
        var mine = await SubmitBigAsync();
        var theirs = await SubmitBigAsync();
        var console = Client(TestAuth.Minter.Mint("console-user", [Roles.Console], mine.AccountId));
        var before = await SnapshotAsync();

        // The console names its own account (so the scope check passes) and another account's application.
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(console, mine.AccountId, theirs.ApplicationId));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal("APPLICATION_NOT_FOUND", e.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        // A reviewer naming the wrong account gets the same answer.
        var reviewer = Client(TestAuth.Token(Roles.Reviewer));
        var wrong = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(reviewer, mine.AccountId, theirs.ApplicationId));
        Assert.Equal(StatusCode.NotFound, wrong.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(reviewer, mine.AccountId, "app_unknown"));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application", unknown.GetRpcStatus()!.GetDetail<ResourceInfo>().ResourceType);
        Assert.Equal(e.Status.Detail.Replace(theirs.ApplicationId, "X"), unknown.Status.Detail.Replace("app_unknown", "X"));

        Assert.Equal(before, await SnapshotAsync());
        Assert.Empty((await GetAsync(theirs.ApplicationId)).LicenseReads);
    }

    [Fact]
    public async Task Roles_not_allowed_and_other_accounts_are_PERMISSION_DENIED_and_not_recorded()
    {
        var app = await SubmitBigAsync();
        foreach (var role in new[] { Roles.Gateway, Roles.BillingOperator, Roles.SubAccount })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(Client(TestAuth.Token(role, app.AccountId)), app.AccountId, app.ApplicationId));
            Assert.True(e.StatusCode == StatusCode.PermissionDenied, $"{role}: {e.StatusCode}");
        }
        var other = Client(TestAuth.Minter.Mint("console-user", [Roles.Console], TestIds.New("acc")));
        var scope = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(other, app.AccountId, app.ApplicationId));
        Assert.Equal(StatusCode.PermissionDenied, scope.StatusCode);
        Assert.Equal("ACCOUNT_NOT_IN_SCOPE", scope.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        Assert.Empty((await GetAsync(app.ApplicationId)).LicenseReads);
    }

    [Fact]
    public async Task Bad_ids_are_INVALID_ARGUMENT_naming_each_field()
    {
        var reviewer = Client(TestAuth.Token(Roles.Reviewer));
        var fields = await RpcAssert.InvalidArgumentAsync(() => ReadAsync(reviewer, "acc*bad", ""));
        Assert.Equal(["account_id", "application_id"], fields.Order());
    }

    [Fact]
    public async Task A_document_missing_from_the_store_is_FAILED_PRECONDITION_and_not_recorded()
    {
        var app = await SubmitBigAsync();
        foreach (var f in Directory.GetFiles(_documents, app.License.Sha256, SearchOption.AllDirectories)) File.Delete(f);

        var reason = await RpcAssert.FailedPreconditionAsync(() => ReadAsync(Client(TestAuth.Token(Roles.Reviewer)), app.AccountId, app.ApplicationId));

        Assert.Equal("LICENSE_DOCUMENT_MISSING", reason);
        Assert.Empty((await GetAsync(app.ApplicationId)).LicenseReads);
    }

    // ---- the raw HTTP route

    private async Task<HttpResponseMessage> GetLicenseAsync(string account, string application, string? token)
    {
        var http = _onboarding.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/accounts/{account}/applications/{application}/license");
        request.Version = HttpVersion.Version11;
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string grpcStatus, string? reason = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = Assert.IsType<JsonObject>(JsonNode.Parse(body));
        Assert.Equal(grpcStatus, (string?)problem["grpcStatus"]);
        Assert.Equal((int)status, (int)problem["status"]!);
        if (reason is not null) Assert.Equal(reason, (string?)problem["reason"]);
    }

    [Fact]
    public async Task The_HTTP_route_serves_the_raw_bytes_with_the_sniffed_type_and_safe_headers_and_records_the_read()
    {
        var app = await SubmitBigAsync();

        using var response = await GetLicenseAsync(app.AccountId, app.ApplicationId, TestAuth.Minter.Mint("carol", [Roles.Reviewer]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(BigPng.Length, response.Content.Headers.ContentLength);
        Assert.Equal("inline", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("scan.png", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoStore, $"Cache-Control: {response.Headers.CacheControl}");
        Assert.Equal(BigPng, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("carol", Assert.Single((await GetAsync(app.ApplicationId)).LicenseReads).Subject);
    }

    [Fact]
    public async Task The_HTTP_route_names_a_license_uploaded_without_a_file_name_after_the_application()
    {
        var app = await SubmitBigAsync(fileName: null);
        using var response = await GetLicenseAsync(app.AccountId, app.ApplicationId, TestAuth.Token(Roles.Reviewer));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"license-{app.ApplicationId}.png", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
    }

    [Fact]
    public async Task The_HTTP_route_is_401_without_a_token_403_for_a_role_not_allowed_or_another_account_404_for_another_accounts_application()
    {
        var mine = await SubmitBigAsync();
        var theirs = await SubmitBigAsync();
        var before = await SnapshotAsync();

        await AssertProblemAsync(await GetLicenseAsync(mine.AccountId, mine.ApplicationId, null), HttpStatusCode.Unauthorized, "UNAUTHENTICATED", "UNAUTHENTICATED");
        await AssertProblemAsync(await GetLicenseAsync(mine.AccountId, mine.ApplicationId, "not.a.jwt"), HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        await AssertProblemAsync(await GetLicenseAsync(mine.AccountId, mine.ApplicationId, TestAuth.Token(Roles.Gateway)), HttpStatusCode.Forbidden, "PERMISSION_DENIED", "ROLE_NOT_ALLOWED");
        await AssertProblemAsync(await GetLicenseAsync(mine.AccountId, mine.ApplicationId, TestAuth.Token(Roles.SubAccount, mine.AccountId)), HttpStatusCode.Forbidden, "PERMISSION_DENIED", "ROLE_NOT_ALLOWED");
        var console = TestAuth.Minter.Mint("console-user", [Roles.Console], mine.AccountId);
        await AssertProblemAsync(await GetLicenseAsync(theirs.AccountId, theirs.ApplicationId, console), HttpStatusCode.Forbidden, "PERMISSION_DENIED", "ACCOUNT_NOT_IN_SCOPE");
        await AssertProblemAsync(await GetLicenseAsync(mine.AccountId, theirs.ApplicationId, console), HttpStatusCode.NotFound, "NOT_FOUND", "APPLICATION_NOT_FOUND");
        await AssertProblemAsync(await GetLicenseAsync("acc*bad", mine.ApplicationId, TestAuth.Token(Roles.Reviewer)), HttpStatusCode.BadRequest, "INVALID_ARGUMENT");

        Assert.Equal(before, await SnapshotAsync());

        // The owner's console itself may read it.
        using var ok = await GetLicenseAsync(mine.AccountId, mine.ApplicationId, console);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(BigPng, await ok.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_read_log_is_stored_under_the_accounts_hash_tag()
    {
        var app = await SubmitBigAsync();
        await ReadAsync(Client(TestAuth.Token(Roles.Reviewer)), app.AccountId, app.ApplicationId);
        var key = RedisKeys.ForAccount(app.AccountId, $"onb:app:{app.ApplicationId}:reads");
        Assert.StartsWith($"{{acct:{app.AccountId}}}", key);
        Assert.Equal(1, await redis.Connection.GetDatabase().ListLengthAsync(key));
    }
}
