using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>
/// The flow of a fresh platform from the command line only: accounts create / show / contacts,
/// subaccounts create / list, applications submit (the license streamed from a file), then the
/// reviewers' queue shows it and approving it opens the service.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AccountsTests(PlatformFixture platform) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faceidctl-accounts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> CreateAccountAsync(string name = "Acme Ltd", params string[] extra)
    {
        var create = (await platform.RunAsync(["accounts", "create", "--name", name, "--email", "ops@acme.example", "--phone", "13800138000", "--contact-name", "Li Lei", "-q", .. extra]))
            .AssertExit(ExitCodes.Ok);
        Assert.Equal("", create.Err);
        // -q: the id alone on one line, so that ACCOUNT=$(faceidctl accounts create ... -q) holds it.
        var id = create.Out.TrimEnd('\n');
        Assert.Matches(@"^\S+$", id);
        return id;
    }

    [Fact]
    public async Task Accounts_create_prints_the_id_with_q_and_show_reads_it_back()
    {
        var accountId = await CreateAccountAsync();

        var show = (await platform.RunAsync("accounts", "show", "--account", accountId)).AssertExit(ExitCodes.Ok);
        Assert.Contains(accountId, show.Out);
        Assert.Contains("Acme Ltd", show.Out);
        Assert.Contains("Li Lei, ops@acme.example, 13800138000", show.Out);
        Assert.Contains("NOT_APPLIED", show.Out);
        var json = (await platform.RunAsync("accounts", "show", "--account", accountId, "--json")).AssertExit(ExitCodes.Ok).Json<Account>();
        Assert.Equal(accountId, json.AccountId);
        Assert.Equal("ops@acme.example", json.Contacts.Email);
        Assert.Equal(ServiceState.NotApplied, json.ServiceState);

        // Without -q: the account's table (or its JSON), the id in it.
        var table = (await platform.RunAsync("accounts", "create", "--name", "Beta Co")).AssertExit(ExitCodes.Ok);
        Assert.Contains("Beta Co", table.Out);
        Assert.Contains("│", table.Out);
        var created = (await platform.RunAsync("accounts", "create", "--name", "Gamma Co", "--json")).AssertExit(ExitCodes.Ok).Json<Account>();
        Assert.Equal("Gamma Co", created.DisplayName);
        Assert.Equal("", created.MainAccountId);

        // Idempotent on --key: the same account again.
        var key = TestIds.New("create");
        var first = await CreateAccountAsync("Delta Co", "--key", key);
        Assert.Equal(first, await CreateAccountAsync("Delta Co", "--key", key));
        Assert.NotEqual(first, await CreateAccountAsync("Delta Co"));
    }

    [Fact]
    public async Task Accounts_contacts_replaces_them_and_bad_input_exits_with_the_field_named()
    {
        var accountId = await CreateAccountAsync();
        var update = (await platform.RunAsync("accounts", "contacts", "--account", accountId, "--email", "finance@acme.example", "--phone", "13900139000", "--contact-name", "Han Meimei", "--json"))
            .AssertExit(ExitCodes.Ok).Json<Account>();
        Assert.Equal("finance@acme.example", update.Contacts.Email);
        Assert.Equal("13900139000", update.Contacts.Mobile);

        var bad = await platform.RunAsync("accounts", "contacts", "--account", accountId, "--email", "not-an-email", "--phone", "13900139000", "--contact-name", "Han Meimei");
        bad.AssertExit(ExitCodes.InvalidArgument);
        Assert.Contains("contacts.email", bad.Err);

        var badName = await platform.RunAsync("accounts", "create", "--name", "", "-q");
        badName.AssertExit(ExitCodes.InvalidArgument);
        Assert.Contains("display_name", badName.Err);
        Assert.Equal("", badName.Out);

        (await platform.RunAsync("accounts", "show", "--account", TestIds.New("acc"))).AssertExit(ExitCodes.NotFound);
        (await platform.RunAsync("accounts", "create")).AssertExit(ExitCodes.Usage);
    }

    [Fact]
    public async Task Subaccounts_create_and_list()
    {
        var main = await CreateAccountAsync();
        var east = (await platform.RunAsync("subaccounts", "create", "--account", main, "--name", "East branch", "-q")).AssertExit(ExitCodes.Ok).Out.TrimEnd('\n');
        var west = (await platform.RunAsync("subaccounts", "create", "--account", main, "--name", "West branch", "--json")).AssertExit(ExitCodes.Ok).Json<Account>();
        Assert.Equal(main, west.MainAccountId);
        Assert.Matches(@"^\S+$", east);

        var list = (await platform.RunAsync("subaccounts", "list", "--account", main)).AssertExit(ExitCodes.Ok);
        Assert.Contains(east, list.Out);
        Assert.Contains(west.AccountId, list.Out);
        Assert.Contains("East branch", list.Out);
        Assert.Contains("2 sub-account(s)", list.Out);
        var json = (await platform.RunAsync("subaccounts", "list", "--account", main, "--json")).AssertExit(ExitCodes.Ok).Json<ListSubAccountsResponse>();
        Assert.Equal(new[] { east, west.AccountId }.Order(), json.Accounts.Select(a => a.AccountId).Order());
        Assert.All(json.Accounts, a => Assert.Equal(main, a.MainAccountId));

        // A sub-account cannot own sub-accounts.
        var nested = await platform.RunAsync("subaccounts", "create", "--account", east, "--name", "Nested");
        nested.AssertExit(ExitCodes.FailedPrecondition);
        Assert.Contains("NOT_A_MAIN_ACCOUNT", nested.Err);
    }

    [Fact]
    public async Task Applications_submit_streams_the_license_then_the_queue_shows_it_and_approving_opens_the_service()
    {
        var accountId = await CreateAccountAsync();
        // A real PNG followed by padding: larger than one 64 KiB chunk, so it goes in several.
        var license = Path.Combine(_dir, "license.png");
        await File.WriteAllBytesAsync(license, [.. Onboard.Png, .. new byte[200 * 1024]]);

        var submit = (await platform.RunAsync("applications", "submit", "--account", accountId, "--license", license, "-q")).AssertExit(ExitCodes.Ok);
        var applicationId = submit.Out.TrimEnd('\n');
        Assert.Matches(@"^\S+$", applicationId);
        Assert.Equal("", submit.Err);

        var pending = (await platform.RunAsync("applications", "list-pending", "--json")).AssertExit(ExitCodes.Ok).Json<ListPendingApplicationsResponse>();
        var queued = Assert.Single(pending.Applications, p => p.Application.ApplicationId == applicationId).Application;
        Assert.Equal(accountId, queued.AccountId);
        Assert.Equal(DocumentType.Png, queued.License.Type);
        Assert.Equal(new FileInfo(license).Length, queued.License.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(license))), queued.License.Sha256);
        Assert.Equal("license.png", queued.License.FileName);
        // The contact came from the account.
        Assert.Equal("ops@acme.example", queued.Contact.Email);
        Assert.Equal("Li Lei", queued.Contact.Name);
        Assert.Equal(ServiceState.PendingReview, (await platform.RunAsync("accounts", "show", "--account", accountId, "--json")).Json<Account>().ServiceState);

        (await platform.RunAsync("applications", "approve", applicationId, "--reviewer", "ops-1")).AssertExit(ExitCodes.Ok);
        await platform.WaitUntilOpenedEverywhereAsync(accountId);
        var show = (await platform.RunAsync("accounts", "show", "--account", accountId)).AssertExit(ExitCodes.Ok);
        Assert.Contains("OPENED", show.Out);
    }

    [Fact]
    public async Task Applications_submit_with_a_table_and_explicit_form_fields()
    {
        // An account without contacts: the form's come from the options.
        var accountId = (await platform.RunAsync("accounts", "create", "--name", "No Contacts Co", "-q")).AssertExit(ExitCodes.Ok).Out.TrimEnd('\n');
        var license = Path.Combine(_dir, "scan.png");
        await File.WriteAllBytesAsync(license, Onboard.Png);

        var missing = await platform.RunAsync("applications", "submit", "--account", accountId, "--license", license);
        missing.AssertExit(ExitCodes.Usage);
        Assert.Contains("--email --phone --contact-name", missing.Err);

        var submit = (await platform.RunAsync("applications", "submit", "--account", accountId, "--license", license, "--scenario", "Remote account opening",
            "--email", "kyc@example.com", "--phone", "13700137000", "--contact-name", "Wang Wu", "--file-name", "license-2026.png")).AssertExit(ExitCodes.Ok);
        Assert.Contains("PENDING", submit.Out);
        Assert.Contains("PNG", submit.Out);
        Assert.Contains("Wang Wu, kyc@example.com, 13700137000", submit.Out);
        var listed = (await platform.RunAsync("applications", "list-pending")).AssertExit(ExitCodes.Ok);
        Assert.Contains("Remote account opening", listed.Out);

        // Pending already: the server refuses a second one (exit 5).
        var again = await platform.RunAsync("applications", "submit", "--account", accountId, "--license", license, "--email", "kyc@example.com", "--phone", "13700137000", "--contact-name", "Wang Wu");
        again.AssertExit(ExitCodes.FailedPrecondition);
        Assert.Contains("APPLICATION_PENDING", again.Err);
    }

    [Fact]
    public async Task Applications_submit_with_a_missing_or_unreadable_file_is_a_usage_error_and_sends_nothing()
    {
        var accountId = await CreateAccountAsync();
        var empty = Path.Combine(_dir, "empty.png");
        await File.WriteAllBytesAsync(empty, []);
        foreach (var (file, message) in new[] { (Path.Combine(_dir, "missing.png"), "does not exist"), (_dir, "is a directory"), (empty, "is empty") })
        {
            var result = await platform.RunAsync("applications", "submit", "--account", accountId, "--license", file, "-q");
            result.AssertExit(ExitCodes.Usage);
            var line = Assert.Single(result.Err.TrimEnd().Split('\n'));
            Assert.StartsWith("faceidctl: applications submit: --license ", line);
            Assert.Contains(message, line);
            Assert.Equal("", result.Out);
        }
        var none = (await platform.RunAsync("applications", "list-pending", "--json")).AssertExit(ExitCodes.Ok).Json<ListPendingApplicationsResponse>();
        Assert.DoesNotContain(none.Applications, p => p.Application.AccountId == accountId);

        // Not a PDF, JPEG or PNG: the server names the field (exit 3).
        var text = Path.Combine(_dir, "license.txt");
        await File.WriteAllTextAsync(text, "not a license");
        var refused = await platform.RunAsync("applications", "submit", "--account", accountId, "--license", text);
        refused.AssertExit(ExitCodes.InvalidArgument);
        Assert.Contains("license_chunk", refused.Err);

        // An unknown account: NOT_FOUND (exit 4), though the server ends the call while the file is still streaming.
        var png = Path.Combine(_dir, "license.png");
        await File.WriteAllBytesAsync(png, [.. Onboard.Png, .. new byte[300 * 1024]]);
        var notFound = await platform.RunAsync("applications", "submit", "--account", TestIds.New("acc"), "--license", png, "--email", "a@b.cn", "--phone", "13800138000", "--contact-name", "X");
        notFound.AssertExit(ExitCodes.NotFound);
        Assert.Contains("onboarding (127.0.0.1:", notFound.Err);
    }
}
