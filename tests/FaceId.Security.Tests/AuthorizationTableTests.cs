using FaceId.Auth;
using FaceId.TestKit;
using Grpc.Core;
using Xunit;

namespace FaceId.Security.Tests;

/// <summary>
/// Authentication and authorization (docs/api.md), table-driven over every RPC of every service (read from the descriptors): no token →
/// UNAUTHENTICATED; a role the method does not allow → PERMISSION_DENIED; an account-bound caller
/// touching another account → PERMISSION_DENIED; and in every case nothing changes in Redis.
/// </summary>
public sealed class AuthorizationTableTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    public static TheoryData<string> AllRpcs => [.. Rpc.All.Select(r => r.ToString())];

    public static TheoryData<string> RpcsWithAForbiddenRole =>
        [.. Rpc.All.Where(r => r.Allow is { } a && Roles.All.Except(a.Roles).Any()).Select(r => r.ToString())];

    public static TheoryData<string> AccountScopedRpcs =>
        [.. Rpc.All.Where(r => r.Allow is { AccountField: not null } a && a.Roles.Any(Roles.IsAccountBound)).Select(r => r.ToString())];

    private static Rpc Find(string name) => Rpc.All.Single(r => r.ToString() == name);

    [Theory]
    [MemberData(nameof(AllRpcs))]
    public void Every_rpc_declares_who_may_call_it(string name) =>
        Assert.True(Find(name).Allow is not null, $"{name} has no [Allow] declaration (it would be denied to everyone)");

    [Theory]
    [MemberData(nameof(AllRpcs))]
    public async Task Without_a_token_every_rpc_is_UNAUTHENTICATED_and_changes_nothing(string name)
    {
        var rpc = Find(name);
        var before = await platform.SnapshotAsync();
        Assert.Equal(StatusCode.Unauthenticated, await rpc.CallAsync(platform.Channel(rpc.Service, ""), rpc.RequestFor(TestIds.New("acct"))));
        Assert.Equal(StatusCode.Unauthenticated, await rpc.CallAsync(platform.Channel(rpc.Service, "not.a.jwt"), rpc.RequestFor(TestIds.New("acct"))));
        var forged = new TokenMinter(TokenMinter.NewKey()).Mint("forger", Roles.All);
        Assert.Equal(StatusCode.Unauthenticated, await rpc.CallAsync(platform.Channel(rpc.Service, forged), rpc.RequestFor(TestIds.New("acct"))));
        Assert.Equal(before, await platform.SnapshotAsync());
    }

    [Theory]
    [MemberData(nameof(RpcsWithAForbiddenRole))]
    public async Task A_caller_in_a_role_the_method_does_not_allow_is_PERMISSION_DENIED_and_changes_nothing(string name)
    {
        var rpc = Find(name);
        var before = await platform.SnapshotAsync();
        foreach (var role in Roles.All.Except(rpc.Allow!.Roles))
        {
            var account = TestIds.New("acct");
            var token = TestAuth.Token(role, Roles.IsAccountBound(role) ? account : null);
            Assert.True(StatusCode.PermissionDenied == await rpc.CallAsync(platform.Channel(rpc.Service, token), rpc.RequestFor(account)), $"{name} as {role}");
        }
        Assert.Equal(before, await platform.SnapshotAsync());
    }

    [Theory]
    [MemberData(nameof(AccountScopedRpcs))]
    public async Task An_account_bound_caller_touching_another_account_is_PERMISSION_DENIED_and_changes_nothing(string name)
    {
        var rpc = Find(name);
        var before = await platform.SnapshotAsync();
        foreach (var role in rpc.Allow!.Roles.Where(Roles.IsAccountBound))
        {
            var token = TestAuth.Token(role, TestIds.New("mine"));
            Assert.True(StatusCode.PermissionDenied == await rpc.CallAsync(platform.Channel(rpc.Service, token), rpc.RequestFor(TestIds.New("theirs"))), $"{name} as {role}");
        }
        Assert.Equal(before, await platform.SnapshotAsync());
    }
}
