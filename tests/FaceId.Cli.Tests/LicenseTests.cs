using System.Security.Cryptography;
using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>applications license (download, verified) and applications show (with the read log).</summary>
[Collection(PlatformCollection.Name)]
public sealed class LicenseTests(PlatformFixture platform)
{
    [Fact]
    public async Task License_writes_the_verified_bytes_and_show_lists_the_read()
    {
        var (accountId, applicationId) = await platform.AccountWithApplicationAsync();
        var output = Path.Combine(Path.GetTempPath(), TestIds.New("license") + ".png");
        try
        {
            var read = (await platform.RunAsync("applications", "license", applicationId, "--account", accountId, "--out", output)).AssertExit(ExitCodes.Ok);
            var sha = Convert.ToHexStringLower(SHA256.HashData(Onboard.Png));
            Assert.Equal(Onboard.Png, await File.ReadAllBytesAsync(output));
            Assert.Contains("image/png", read.Out);
            Assert.Contains(sha, read.Out);
            Assert.Contains($"{Onboard.Png.Length} B", read.Out);
            Assert.Contains("verified", read.Out);

            var show = (await platform.RunAsync("applications", "show", applicationId)).AssertExit(ExitCodes.Ok);
            Assert.Contains("license reads", show.Out);
            var json = (await platform.RunAsync("applications", "show", applicationId, "--json")).AssertExit(ExitCodes.Ok).Json<Application>();
            Assert.Single(json.LicenseReads);
            Assert.Contains(json.LicenseReads[0].Subject, show.Out);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Another_accounts_application_is_exit_4_and_writes_no_file()
    {
        var (accountId, _) = await platform.AccountWithApplicationAsync();
        var (_, theirs) = await platform.AccountWithApplicationAsync();
        var output = Path.Combine(Path.GetTempPath(), TestIds.New("license") + ".png");

        var result = (await platform.RunAsync("applications", "license", theirs, "--account", accountId, "--out", output)).AssertExit(ExitCodes.NotFound);

        Assert.Contains("NOT_FOUND", result.Err);
        Assert.False(File.Exists(output));
    }
}
