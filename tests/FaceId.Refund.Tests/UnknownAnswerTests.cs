using FaceId.Refund.Application;
using FaceId.Refund.Grpc;
using Xunit;

namespace FaceId.Refund.Tests;

/// <summary>A refund state nobody knows is a fault naming it, never "rejected"; without a host.</summary>
public sealed class UnknownAnswerTests
{
    [Fact]
    public void Known_refund_states_keep_their_wire_values()
    {
        Assert.Equal(Contracts.Refund.V1.RefundState.Requested, RefundGrpcService.ToProto(RefundState.Requested));
        Assert.Equal(Contracts.Refund.V1.RefundState.Approved, RefundGrpcService.ToProto(RefundState.Approved));
        Assert.Equal(Contracts.Refund.V1.RefundState.Credited, RefundGrpcService.ToProto(RefundState.Credited));
        Assert.Equal(Contracts.Refund.V1.RefundState.Rejected, RefundGrpcService.ToProto(RefundState.Rejected));
    }

    [Fact]
    public void An_unknown_refund_state_throws_naming_it()
    {
        var e = Assert.Throws<InvalidOperationException>(() => RefundGrpcService.ToProto((RefundState)42));
        Assert.Contains("'42'", e.Message);
    }
}
