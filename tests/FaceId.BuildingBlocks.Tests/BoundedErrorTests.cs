using FaceId.Common;
using FaceId.Contracts.Metering.V1;
using FaceId.ServiceDefaults;
using Google.Protobuf;
using Google.Rpc;
using Xunit;
using Status = Google.Rpc.Status;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// The pieces of bounded requests and errors (docs/api.md, "Bounded requests and errors"): the
/// descriptor-driven string bounds, the echo of caller input, and the size budget every status leaves in.
/// </summary>
public sealed class BoundedErrorTests
{
    [Fact]
    public void Every_over_long_string_is_named_with_its_path_and_limit_nested_and_repeated_ones_included()
    {
        var batch = new RecordUsageBatchRequest
        {
            Records =
            {
                new UsageRecord { RequestId = "ok", Label = "basic_authoritative" },
                new UsageRecord { RequestId = new string('r', 129), Label = new string('l', 65), ReturnCode = new string('c', 64) },
            },
        };

        var refusal = RequestBounds.Check(batch);

        Assert.NotNull(refusal);
        Assert.Equal(
            [("records[1].request_id", "must be at most 128 characters"), ("records[1].label", "must be at most 64 characters")],
            refusal.Violations.Select(v => (v.Field, v.Description)));
        Assert.Null(RequestBounds.Check(new RecordUsageRequest { Record = new UsageRecord { RequestId = new string('r', 128), Label = new string('l', 64) } }));
    }

    [Fact]
    public void A_request_with_thousands_of_over_long_fields_reports_the_first_ones_only()
    {
        var batch = new RecordUsageBatchRequest();
        for (var i = 0; i < 5_000; i++) batch.Records.Add(new UsageRecord { RequestId = new string('r', 200), AccountId = new string('a', 200) });

        var refusal = RequestBounds.Check(batch);

        Assert.Equal(RequestBounds.MaxReported, refusal!.Violations.Count);
    }

    [Fact]
    public void Caller_input_is_echoed_as_a_short_prefix_with_its_length()
    {
        Assert.Equal("acct-1", CallerInput.Echo("acct-1"));
        Assert.Equal(new string('x', 128), CallerInput.Echo(new string('x', 128)));
        Assert.Equal(new string('x', 128) + "… (102400 characters)", CallerInput.Echo(new string('x', 100 * 1024)));
        Assert.Equal("", CallerInput.Echo(null));
    }

    [Theory]
    [InlineData('x')]
    [InlineData('字')]
    [InlineData('%')]
    public void Any_status_fits_the_trailer_budget_whatever_its_texts_and_details_hold(char filler)
    {
        var huge = new string(filler, 100 * 1024);
        var long1K = new string(filler, 1024);
        var violations = Enumerable.Range(0, 5_000).Select(i => new FieldViolation($"records[{i}].{long1K}", long1K)).ToList();

        foreach (var status in new[]
        {
            DomainExceptionInterceptor.ToStatus(new InvalidInputException(violations)),
            DomainExceptionInterceptor.ToStatus(new PreconditionFailedException("SOME_REASON", huge, huge)),
            DomainExceptionInterceptor.ToStatus(new NotFoundException(huge, huge)),
        })
        {
            Assert.True(StatusBudget.EncodedLength(status.Message) <= StatusBudget.MaxMessageBytes, $"message of {StatusBudget.EncodedLength(status.Message)} bytes");
            Assert.True(status.CalculateSize() <= StatusBudget.MaxStatusBytes, $"status of {status.CalculateSize()} bytes");
            Assert.NotEmpty(status.Details);
            Assert.EndsWith("…", status.Message);
        }
        var badRequest = DomainExceptionInterceptor.ToStatus(new InvalidInputException(violations)).Details[0].Unpack<BadRequest>();
        Assert.StartsWith("records[0].", badRequest.FieldViolations[0].Field);
    }

    [Fact]
    public void A_status_within_budget_is_left_as_it_is()
    {
        var status = new Status { Code = 3, Message = "Invalid input: label: must be at most 64 characters" };
        Assert.Same(status, StatusBudget.Fit(status));
        Assert.Equal(5, StatusBudget.EncodedLength("a%b")); // grpc-message: printable ASCII as is, '%' and other bytes as %XX
        Assert.Equal(9, StatusBudget.EncodedLength("字"));
    }
}
