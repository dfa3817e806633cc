using FaceId.Metering.Application;
using FaceId.Metering.Grpc;
using FaceId.Packages.Grpc;
using FaceId.Packages.Ledger;
using FaceId.Redis;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>An answer nobody knows (from a script or an enum) is a fault naming it, never a business outcome; without a host.</summary>
public sealed class UnknownAnswerTests
{
    private static RedisResult Answer(params string[] values) => RedisResult.Create([.. values.Select(v => RedisResult.Create((RedisValue)v))]);

    private static ChargeRequest Record(string id) => new(id, "basic_authoritative", DateTimeOffset.UnixEpoch, true, "", "ACCESS_MODE_SAAS", "0");

    [Fact]
    public void Deduct_refusal_statuses_keep_their_meaning()
    {
        var reply = DeductScript.Instance.Parse(Answer("2021-06", "uose"));
        Assert.Equal([ChargeStatus.UnknownAccount, ChargeStatus.NotOpened, ChargeStatus.Suspended, ChargeStatus.EnterpriseNotVerified],
            DeductScript.Instance.Results(reply, [Record("a"), Record("b"), Record("c"), Record("d")]).Select(r => r.Status));
        Assert.Equal(RefusalReason.EnterpriseNotVerified, MeteringApplication.ToResult("r1", "m1", new ChargeResult(ChargeStatus.EnterpriseNotVerified, null)).Refusal);
        Assert.Equal(Contracts.Metering.V1.Refusal.EnterpriseNotVerified, MeteringGrpcService.ToProto(RefusalReason.EnterpriseNotVerified));
        var reused = MeteringApplication.ToResult("r1", "m1", new ChargeResult(ChargeStatus.KeyReused, null, ["return_code"]));
        Assert.Equal((UsageKind.Refused, RefusalReason.IdempotencyKeyReused, "return_code"), (reused.Kind, reused.Refusal, Assert.Single(reused.DifferingFields!)));
        Assert.Equal(Contracts.Metering.V1.Refusal.IdempotencyKeyReused, MeteringGrpcService.ToProto(RefusalReason.IdempotencyKeyReused));
    }

    [Fact]
    public void A_reused_id_answer_without_a_fingerprint_or_differing_in_nothing_throws()
    {
        // The kept call as deduct.lua answers it: its whole outcome, '#', its fingerprint.
        var record = Record("a");
        var fingerprint = UsageFingerprint.Of(record);
        var reply = DeductScript.Instance.Parse(Answer("2021-06", "r", "P|basic_authoritative|pkg_1|5#" + fingerprint[..^1] + (fingerprint[^1] == '0' ? '1' : '0')));
        Assert.Equal([UsageFingerprint.OccurredAt], Assert.Single(DeductScript.Instance.Results(reply, [record])).DifferingFields);
        Assert.Throws<UnexpectedScriptReplyException>(() => DeductScript.Instance.Results(DeductScript.Instance.Parse(Answer("2021-06", "r", "P|basic_authoritative|pkg_1|5")), [record]));
        Assert.Throws<UnexpectedScriptReplyException>(() => DeductScript.Instance.Results(DeductScript.Instance.Parse(Answer("2021-06", "r", "P|basic_authoritative|pkg_1|5#" + fingerprint)), [record]));
    }

    [Fact]
    public void An_unknown_deduct_status_throws_naming_it_not_suspended()
    {
        var e = Assert.Throws<UnexpectedScriptReplyException>(() => DeductScript.Instance.Parse(Answer("2021-06", "x")));
        Assert.Equal("deduct.lua", e.ScriptName);
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void A_deduct_answer_whose_outcomes_do_not_match_its_statuses_or_records_throws()
    {
        Assert.Throws<UnexpectedScriptReplyException>(() => DeductScript.Instance.Parse(Answer("2021-06", "+=")));
        var reply = DeductScript.Instance.Parse(Answer("2021-06", "+", "Zbasic_authoritative"));
        Assert.Contains("'Z'", Assert.Throws<UnexpectedScriptReplyException>(() => DeductScript.Instance.Results(reply, [Record("a")])).Message);
        Assert.Throws<UnexpectedScriptReplyException>(() => DeductScript.Instance.Results(DeductScript.Instance.Parse(Answer("2021-06", "u")), [Record("a"), Record("b")]));
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
