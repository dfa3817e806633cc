using FaceId.Metering.Application;
using FaceId.Metering.Grpc;
using FaceId.Packages.Grpc;
using FaceId.Packages.Ledger;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>An answer nobody knows (from a script or an enum) is a fault naming it, never a business outcome; without a host.</summary>
public sealed class UnknownAnswerTests
{
    [Theory]
    [InlineData('u', ChargeStatus.UnknownAccount)]
    [InlineData('o', ChargeStatus.NotOpened)]
    [InlineData('s', ChargeStatus.Suspended)]
    public void Deduct_refusal_statuses_keep_their_meaning(char status, ChargeStatus expected) =>
        Assert.Equal(expected, UsageCharges.RefusalStatus(status));

    [Fact]
    public void An_unknown_deduct_status_throws_naming_it_not_suspended()
    {
        var e = Assert.Throws<InvalidOperationException>(() => UsageCharges.RefusalStatus('x'));
        Assert.Contains("deduct.lua", e.Message);
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void An_unknown_package_state_throws_naming_it_not_refunded()
    {
        Assert.Equal(Contracts.Packages.V1.PackageStatus.Refunded, PackagesGrpcService.ToProto(PackageState.Refunded));
        var e = Assert.Throws<InvalidOperationException>(() => PackagesGrpcService.ToProto((PackageState)42));
        Assert.Contains("'42'", e.Message);
    }

    [Fact]
    public void An_unknown_charge_status_throws_naming_it_not_suspended()
    {
        Assert.Equal(RefusalReason.ServiceSuspended, MeteringApplication.ToResult("r1", "m1", new ChargeResult(ChargeStatus.Suspended, null)).Refusal);
        var e = Assert.Throws<InvalidOperationException>(() => MeteringApplication.ToResult("r1", "m1", new ChargeResult((ChargeStatus)42, null)));
        Assert.Contains("'42'", e.Message);
    }

    [Fact]
    public void An_unknown_usage_kind_or_refusal_throws_naming_it()
    {
        Assert.Equal(Contracts.Metering.V1.ChargeKind.Refused, MeteringGrpcService.ToProto(UsageKind.Refused));
        Assert.Equal(Contracts.Metering.V1.Refusal.Unspecified, MeteringGrpcService.ToProto(RefusalReason.None));
        Assert.Contains("'42'", Assert.Throws<InvalidOperationException>(() => MeteringGrpcService.ToProto((UsageKind)42)).Message);
        Assert.Contains("'42'", Assert.Throws<InvalidOperationException>(() => MeteringGrpcService.ToProto((RefusalReason)42)).Message);
    }
}
