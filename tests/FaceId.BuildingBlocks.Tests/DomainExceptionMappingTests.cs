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
    public void An_unavailable_dependency_maps_to_UNAVAILABLE_with_retry_advice()
    {
        var status = DomainExceptionInterceptor.ToStatus(new TemporarilyUnavailableException("later"));

        Assert.Equal((int)Code.Unavailable, status.Code);
        Assert.Equal(DomainExceptionInterceptor.RetryAfter, Detail<RetryInfo>(status).RetryDelay.ToTimeSpan());
    }

    /// <summary>Each way StackExchange.Redis reports a store that is briefly away, and the condition the status names.</summary>
    public static TheoryData<string, string> TransientStoreFaults => new()
    {
        { "socket failure", "CONNECTION" },
        { "no connection available", "CONNECTION" },
        { "connection met LOADING", "LOADING" },
        { "timeout", "TIMEOUT" },
        { "LOADING Redis is loading the dataset in memory", "LOADING" },
        { "TRYAGAIN Multiple keys request during rehashing of slot", "TRYAGAIN" },
        { "CLUSTERDOWN The cluster is down", "CLUSTERDOWN" },
        { "MOVED 3999 127.0.0.1:6381", "MOVED" },
        { "ASK 3999 127.0.0.1:6381", "ASK" },
        { "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", "MASTERDOWN" },
        { "READONLY You can't write against a read only replica.", "READONLY" },
        { "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", "BUSY" },
        { "NOREPLICAS Not enough good replicas to write.", "NOREPLICAS" },
        { "wrapped timeout", "TIMEOUT" },
    };

    private static Exception StoreFault(string kind) => kind switch
    {
        "socket failure" => new RedisConnectionException(ConnectionFailureType.SocketFailure, "SocketFailure on 127.0.0.1:6379/Interactive"),
        "no connection available" => new RedisConnectionException(ConnectionFailureType.UnableToConnect,
            "No connection is active/available to service this operation: EVALSHA; It was not possible to connect to the redis server(s)."),
        "connection met LOADING" => new RedisConnectionException(ConnectionFailureType.Loading, "Loading on 127.0.0.1:6379/Interactive"),
        "timeout" => new RedisTimeoutException("Timeout awaiting response (outbound=0KiB, inbound=0KiB, 3016ms elapsed, timeout is 3000ms)", CommandStatus.Sent),
        "wrapped timeout" => new AggregateException(new RedisTimeoutException("Timeout performing EVALSHA", CommandStatus.Sent)),
        _ => new RedisServerException(kind),
    };

    [Theory]
    [MemberData(nameof(TransientStoreFaults))]
    public void A_store_that_is_briefly_away_maps_to_UNAVAILABLE_with_retry_advice_never_INTERNAL(string fault, string condition)
    {
        var status = DomainExceptionInterceptor.ToStatus(StoreFault(fault));

        Assert.Equal((int)Code.Unavailable, status.Code);
        Assert.Equal(DomainExceptionInterceptor.RetryAfter, Detail<RetryInfo>(status).RetryDelay.ToTimeSpan());
        var info = Detail<ErrorInfo>(status);
        Assert.Equal(DomainExceptionInterceptor.StoreUnavailableReason, info.Reason);
        Assert.Equal(DomainExceptionInterceptor.ErrorDomain, info.Domain);
        Assert.Equal(condition, info.Metadata["condition"]);
        Assert.Contains("briefly unavailable", status.Message);
        Assert.Contains("same idempotency key", status.Message);
        Assert.DoesNotContain("127.0.0.1", status.ToString()); // nothing of the store's own message
    }

    [Theory]
    [InlineData("ERR unknown command 'FOO'")]
    [InlineData("BUSYGROUP Consumer Group name already exists")]
    [InlineData("NOSCRIPT No matching script. Please use EVAL.")]
    [InlineData("WRONGTYPE Operation against a key holding the wrong kind of value")]
    [InlineData("ERR user_script:12: Script attempted to access nonexistent global variable 'x'")]
    public void Other_store_errors_are_bugs_and_stay_INTERNAL(string reply)
    {
        var status = DomainExceptionInterceptor.ToStatus(new RedisServerException(reply));

        Assert.Equal((int)Code.Internal, status.Code);
        Assert.Empty(status.Details);
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
