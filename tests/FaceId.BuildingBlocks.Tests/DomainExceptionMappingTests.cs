using FaceId.Common;
using FaceId.SampleService;
using FaceId.ServiceDefaults;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using StackExchange.Redis;
using Xunit;
using Status = Google.Rpc.Status;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>Decision 3 (docs/architecture.md): domain exceptions become gRPC statuses with google.rpc details, once, in the interceptor.</summary>
public sealed class DomainExceptionMappingTests
{
    [Fact]
    public void Invalid_input_maps_to_INVALID_ARGUMENT_with_a_BadRequest_listing_every_field()
    {
        var status = DomainExceptionInterceptor.ToStatus(new InvalidInputException(
            [new FieldViolation("account_id", "is required"), new FieldViolation("label", "must be at most 64 characters")]));

        Assert.Equal((int)Code.InvalidArgument, status.Code);
        var badRequest = Detail<BadRequest>(status);
        Assert.Equal(
            [("account_id", "is required"), ("label", "must be at most 64 characters")],
            badRequest.FieldViolations.Select(v => (v.Field, v.Description)));
        Assert.Contains("account_id: is required", status.Message);
    }

    [Fact]
    public void Not_found_maps_to_NOT_FOUND_with_ResourceInfo()
    {
        var status = DomainExceptionInterceptor.ToStatus(new NotFoundException("account", "acct-404"));

        Assert.Equal((int)Code.NotFound, status.Code);
        var info = Detail<ResourceInfo>(status);
        Assert.Equal("account", info.ResourceType);
        Assert.Equal("acct-404", info.ResourceName);
    }

    [Fact]
    public void Precondition_failed_maps_to_FAILED_PRECONDITION_with_PreconditionFailure_and_ErrorInfo_reason()
    {
        var status = DomainExceptionInterceptor.ToStatus(new PreconditionFailedException("SERVICE_NOT_ACTIVATED", "account/acct-1", "The service is not activated."));

        Assert.Equal((int)Code.FailedPrecondition, status.Code);
        var violation = Assert.Single(Detail<PreconditionFailure>(status).Violations);
        Assert.Equal("SERVICE_NOT_ACTIVATED", violation.Type);
        Assert.Equal("account/acct-1", violation.Subject);
        Assert.Equal("The service is not activated.", violation.Description);
        var info = Detail<ErrorInfo>(status);
        Assert.Equal("SERVICE_NOT_ACTIVATED", info.Reason);
        Assert.Equal(DomainExceptionInterceptor.ErrorDomain, info.Domain);
    }

    [Fact]
    public void Permission_denied_maps_to_PERMISSION_DENIED()
    {
        var status = DomainExceptionInterceptor.ToStatus(new PermissionDeniedException("Sub-account acct-2 may not read acct-3."));

        Assert.Equal((int)Code.PermissionDenied, status.Code);
        Assert.Equal("Sub-account acct-2 may not read acct-3.", status.Message);
        Assert.Equal("PERMISSION_DENIED", Detail<ErrorInfo>(status).Reason);
    }

    [Fact]
    public void Unavailable_dependencies_map_to_UNAVAILABLE()
    {
        Assert.Equal((int)Code.Unavailable, DomainExceptionInterceptor.ToStatus(new TemporarilyUnavailableException("later")).Code);
        Assert.Equal((int)Code.Unavailable, DomainExceptionInterceptor.ToStatus(new RedisConnectionException(ConnectionFailureType.SocketFailure, "down")).Code);
        Assert.Equal((int)Code.Unavailable, DomainExceptionInterceptor.ToStatus(new RedisTimeoutException("slow", CommandStatus.Sent)).Code);
    }

    [Fact]
    public void An_unknown_exception_maps_to_INTERNAL_without_leaking_its_message()
    {
        var status = DomainExceptionInterceptor.ToStatus(new InvalidOperationException(ProbeApi.SecretDetail));

        Assert.Equal((int)Code.Internal, status.Code);
        Assert.DoesNotContain("hunter2", status.ToString());
        Assert.Empty(status.Details);
    }

    private static T Detail<T>(Status status) where T : class, IMessage<T>, new()
    {
        var descriptor = new T().Descriptor;
        var any = Assert.Single(status.Details, d => d.Is(descriptor));
        return any.Unpack<T>();
    }
}

/// <summary>The interceptor as installed by AddServiceDefaults, seen by a gRPC client of a host run in process.</summary>
public sealed class DomainExceptionInterceptorTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Theory]
    [InlineData("invalid", StatusCode.InvalidArgument, "google.rpc.BadRequest")]
    [InlineData("notfound", StatusCode.NotFound, "google.rpc.ResourceInfo")]
    [InlineData("precondition", StatusCode.FailedPrecondition, "google.rpc.PreconditionFailure")]
    [InlineData("denied", StatusCode.PermissionDenied, "google.rpc.ErrorInfo")]
    [InlineData("unavailable", StatusCode.Unavailable, null)]
    public async Task A_client_sees_the_mapped_status_and_its_details(string kind, StatusCode expected, string? detail)
    {
        await using var service = new InProcessService<SampleServiceEntryPoint>(new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = redis.ConnectionString,
        });

        var e = await Assert.ThrowsAsync<RpcException>(() => Call(service, kind));

        Assert.Equal(expected, e.StatusCode);
        var status = e.GetRpcStatus();
        Assert.NotNull(status);
        if (detail is not null)
            Assert.Contains(status.Details, d => d.TypeUrl == "type.googleapis.com/" + detail);
    }

    [Fact]
    public async Task A_client_sees_INTERNAL_and_nothing_of_an_unexpected_exception()
    {
        await using var service = new InProcessService<SampleServiceEntryPoint>(new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = redis.ConnectionString,
        });

        var e = await Assert.ThrowsAsync<RpcException>(() => Call(service, "boom"));

        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.DoesNotContain("hunter2", e.ToString());
        Assert.DoesNotContain("hunter2", string.Join(";", e.Trailers.Select(t => t.IsBinary ? System.Text.Encoding.UTF8.GetString(t.ValueBytes) : t.Value)));
        Assert.Empty(e.GetRpcStatus()?.Details ?? []);
    }

    private static async Task Call(InProcessService<SampleServiceEntryPoint> service, string kind) =>
        await service.Channel.CreateCallInvoker().AsyncUnaryCall(ProbeApi.Fail, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), new StringValue { Value = kind });
}
