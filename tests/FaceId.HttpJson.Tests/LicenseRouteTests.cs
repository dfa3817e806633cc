using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using FaceId.Auth;
using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>
/// GET /v1/accounts/{account_id}/applications/{application_id}/license on Onboarding's real HTTP/1.1
/// port: the raw license with its sniffed type, and the same refusals as the gRPC method, as problem details.
/// </summary>
[Collection(HttpPlatformCollection.Name)]
public sealed class LicenseRouteTests(HttpPlatform platform)
{
    private const string Service = "FaceId.Onboarding";

    private static string Path(string account, string application) => $"/v1/accounts/{account}/applications/{application}/license";

    [Fact]
    public async Task The_owning_console_gets_the_raw_license_with_its_type_length_and_no_caching()
    {
        var account = await platform.AccountAsync();
        var application = await new OnboardingService.OnboardingServiceClient(platform.Onboarding.Channel)
            .GetApplicationAsync(new GetApplicationRequest { ApplicationId = account.ApplicationId });

        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(platform[Service].HttpAddress, Path(account.AccountId, account.ApplicationId)));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.Token);
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(application.License.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(application.License.SizeBytes, response.Content.Headers.ContentLength);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("inline", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoStore);

        var reads = (await new OnboardingService.OnboardingServiceClient(platform.Onboarding.Channel)
            .GetApplicationAsync(new GetApplicationRequest { ApplicationId = account.ApplicationId })).LicenseReads;
        Assert.Contains(reads, r => r.Roles.Contains(Roles.Console));
    }

    [Fact]
    public async Task Without_a_token_401_a_role_not_allowed_403_another_accounts_application_404()
    {
        var account = await platform.AccountAsync();
        var path = Path(account.AccountId, account.ApplicationId);
        ProblemAssert.Is(await platform.SendAsync(Service, HttpMethod.Get, path, ""), 401, "UNAUTHENTICATED", null, "no token");
        ProblemAssert.Is(await platform.SendAsync(Service, HttpMethod.Get, path, TestAuth.Token(Roles.Gateway)), 403, "PERMISSION_DENIED", null, "gateway");
        ProblemAssert.Is(await platform.SendAsync(Service, HttpMethod.Get, path, HttpPlatform.ConsoleToken(TestIds.New("acc"))), 403, "PERMISSION_DENIED", null, "another account's console");
        var other = TestIds.New("acc");
        ProblemAssert.Is(await platform.SendAsync(Service, HttpMethod.Get, Path(other, account.ApplicationId), HttpPlatform.ConsoleToken(other)), 404, "NOT_FOUND", null,
            "a console naming its own account and another account's application");
        ProblemAssert.Is(await platform.SendAsync(Service, HttpMethod.Get, Path(account.AccountId, "app*bad"), account.Token), 400, "INVALID_ARGUMENT", "application_id", "a bad id");
    }
}
