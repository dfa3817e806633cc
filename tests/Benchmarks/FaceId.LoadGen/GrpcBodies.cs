using System.Buffers.Binary;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Diagnostics.V1;
using FaceId.Contracts.Metering.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FaceId.LoadGen;

/// <summary>
/// Request bodies for h2load, which sends the same bytes on every call: a gRPC message is a 5-byte
/// prefix (compressed flag 0, big-endian length) and the protobuf bytes. Each body is also sent once
/// with the C# client, which checks the status it gets (h2load counts any HTTP 200 as a success and
/// never reads grpc-status from the trailers).
/// </summary>
public static class GrpcBodies
{
    public static byte[] Frame(IMessage message)
    {
        var body = new byte[5 + message.CalculateSize()];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1, 4), (uint)(body.Length - 5));
        message.WriteTo(body.AsSpan(5));
        return body;
    }

    /// <summary>Writes the body of KIND (ping, replay, invalid) to PATH and checks its answer; returns the gRPC path.</summary>
    public static async Task<string> WriteAsync(string kind, string target, string account, string path)
    {
        using var channel = ChannelPool.Create(target);
        var metering = new MeteringService.MeteringServiceClient(channel);
        var record = new UsageRecord
        {
            RequestId = $"h2-{kind}-{DateTime.UtcNow:HHmmssfff}",
            AccountId = account,
            Label = "basic_authoritative",
            AccessMode = AccessMode.Saas,
            ReturnCode = "0",
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
        };
        switch (kind)
        {
            case "ping":
                await File.WriteAllBytesAsync(path, Frame(new PingRequest()));
                await new DiagnosticsService.DiagnosticsServiceClient(channel).PingAsync(new PingRequest());
                return "/faceid.diagnostics.v1.DiagnosticsService/Ping";
            case "replay":
                // Recorded now; every h2load call replays it (h2load cannot vary the body per call).
                var first = await metering.RecordUsageAsync(new RecordUsageRequest { Record = record });
                if (first.Outcome.Kind != ChargeKind.Package) throw new InvalidOperationException($"replay seed answered {first.Outcome.Kind}");
                await File.WriteAllBytesAsync(path, Frame(new RecordUsageRequest { Record = record }));
                return "/faceid.metering.v1.MeteringService/RecordUsage";
            case "invalid":
                // A misconfigured gateway: a return code outside the allowed characters (R-MET-2 input).
                record.ReturnCode = "0 (ok)";
                await File.WriteAllBytesAsync(path, Frame(new RecordUsageRequest { Record = record }));
                try
                {
                    await metering.RecordUsageAsync(new RecordUsageRequest { Record = record });
                    throw new InvalidOperationException("the invalid record was accepted");
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
                {
                    return "/faceid.metering.v1.MeteringService/RecordUsage";
                }
            default:
                throw new ArgumentException($"unknown body kind '{kind}' (ping, replay, invalid)");
        }
    }
}
