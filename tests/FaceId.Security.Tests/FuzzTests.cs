using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.Security.Tests;

/// <summary>
/// Thousands of random and malformed messages to every RPC — garbage bytes, truncated
/// messages, huge strings, negative and extreme numbers, unknown enum values, invalid UTF-8,
/// far-future and far-past timestamps. Never INTERNAL (or UNKNOWN), never a crash, and an RPC whose
/// every call was rejected changed nothing in Redis.
/// </summary>
public sealed class FuzzTests(PlatformFixture platform, ITestOutputHelper output) : IClassFixture<PlatformFixture>
{
    private const int PerRpc = 100;

    public static TheoryData<string> AllRpcs => [.. Rpc.All.Select(r => r.ToString())];

    [Theory]
    [MemberData(nameof(AllRpcs))]
    public async Task Random_and_malformed_input_never_gets_INTERNAL_and_rejected_input_changes_nothing(string name)
    {
        var rpc = Rpc.All.Single(r => r.ToString() == name);
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) ^ 20261126);
        var channel = platform.Channel(rpc.Service, TestAuth.OperatorToken);
        var before = await platform.SnapshotAsync();
        var statuses = new Dictionary<StatusCode, int>();
        for (var i = 0; i < PerRpc; i++)
        {
            var status = i % 3 == 0
                ? await rpc.CallRawAsync(channel, Garbage(random, rpc, i))
                : await rpc.CallAsync(channel, RandomMessage(rpc.Method.InputType, random, depth: 0));
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True(status is not (StatusCode.Internal or StatusCode.Unknown), $"{name}: input #{i} answered {status}");
        }
        output.WriteLine($"{name}: {PerRpc} inputs → {string.Join(", ", statuses.Select(s => $"{s.Key} {s.Value}"))}");
        if (!statuses.ContainsKey(StatusCode.OK))
        {
            var after = await platform.SnapshotAsync();
            var changed = after.Where(kv => !before.TryGetValue(kv.Key, out var v) || v != kv.Value).Select(kv => kv.Key)
                .Concat(before.Keys.Except(after.Keys)).ToList();
            Assert.True(changed.Count == 0, $"{name}: rejected input changed {string.Join(", ", changed)}");
        }
    }

    /// <summary>Bytes that are not a valid message: random, truncated valid ones, invalid UTF-8 in a string field, bad wire types.</summary>
    private static byte[] Garbage(Random random, Rpc rpc, int i)
    {
        switch (i / 3 % 4)
        {
            case 0:
                var bytes = new byte[random.Next(1, 64)];
                random.NextBytes(bytes);
                return bytes;
            case 1:
                var valid = RandomMessage(rpc.Method.InputType, random, 0).ToByteArray();
                return valid.Length > 1 ? valid[..random.Next(1, valid.Length)] : [0x0A, 0x05, 0x41];
            case 2:
                return [0x0A, 0x03, 0xC3, 0x28, 0xFF]; // field 1, length 3, invalid UTF-8
            default:
                return [0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]; // wire type 7, overlong varint
        }
    }

    private static IMessage RandomMessage(MessageDescriptor type, Random random, int depth)
    {
        var message = type.Parser.ParseFrom(ByteString.Empty);
        foreach (var field in type.Fields.InDeclarationOrder())
        {
            if (random.Next(4) == 0) continue;
            if (field.IsRepeated)
            {
                if (field.FieldType != FieldType.Message || depth > 2) continue;
                var list = (System.Collections.IList)field.Accessor.GetValue(message);
                var n = random.Next(0, 4);
                for (var k = 0; k < n; k++) list.Add(RandomMessage(field.MessageType, random, depth + 1));
                continue;
            }
            if (field.ContainingOneof is not null && random.Next(2) == 0) continue;
            object? value = field.FieldType switch
            {
                FieldType.String => RandomString(random),
                FieldType.Bytes => ByteString.CopyFrom(RandomBytes(random)),
                FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => random.Next(5) switch { 0 => long.MinValue, 1 => long.MaxValue, 2 => -1L, 3 => 0L, _ => random.NextInt64(-1_000_000, 1_000_000) },
                FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => random.Next(4) switch { 0 => int.MinValue, 1 => int.MaxValue, 2 => -1, _ => random.Next(-1000, 1000) },
                FieldType.Bool => random.Next(2) == 0,
                FieldType.Enum => random.Next(3) == 0 ? random.Next(-5, 1000) : field.EnumType.Values[random.Next(field.EnumType.Values.Count)].Number,
                FieldType.Message when field.MessageType.FullName == Timestamp.Descriptor.FullName => RandomTimestamp(random),
                FieldType.Message when depth < 3 && field.MessageType.FullName.StartsWith("faceid.", StringComparison.Ordinal) => RandomMessage(field.MessageType, random, depth + 1),
                _ => null,
            };
            if (value is null) continue;
            if (field.FieldType == FieldType.Enum) value = System.Enum.ToObject(field.Accessor.GetValue(message).GetType(), (int)value);
            field.Accessor.SetValue(message, value);
        }
        return message;
    }

    private static string RandomString(Random random) => random.Next(6) switch
    {
        0 => "",
        1 => new string('x', random.Next(1_000, 200_000)),
        2 => "acc_" + random.Next(),
        3 => "💥\u0000\u202E<script>' OR 1=1 --",
        4 => "0",
        _ => Guid.NewGuid().ToString(),
    };

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, random.Next(2) == 0 ? 64 : 200_000)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static Timestamp RandomTimestamp(Random random) => random.Next(4) switch
    {
        0 => new Timestamp { Seconds = 253402300799 }, // 9999-12-31
        1 => new Timestamp { Seconds = -62135596800 }, // 0001-01-01
        2 => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(random.Next(-30, 30))),
        _ => new Timestamp { Seconds = random.NextInt64(-1_000_000_000_000, 1_000_000_000_000), Nanos = random.Next(int.MinValue, int.MaxValue) },
    };
}
