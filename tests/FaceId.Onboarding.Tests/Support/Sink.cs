using System.Text.Json;

namespace FaceId.Onboarding.Tests.Support;

public sealed record SinkLine(string EventId, string Channel, string To, string Kind, string Title, string Body, string At);

/// <summary>Reads the notification file sink (email.jsonl, sms.jsonl) the way an operator would.</summary>
public static class Sink
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Every line of a sink file; waits out the writer's exclusive lock (held for one append).</summary>
    public static async Task<IReadOnlyList<SinkLine>> ReadAsync(string directory, string channel)
    {
        var path = Path.Combine(directory, channel + ".jsonl");
        for (var attempt = 0; ; attempt++)
        {
            if (!File.Exists(path)) return [];
            try
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                return (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => JsonSerializer.Deserialize<SinkLine>(l, Json)!)
                    .ToList();
            }
            catch (IOException) when (attempt < 500)
            {
                await Task.Delay(5); // the sink's writer holds the file for the length of one append
            }
        }
    }

    public static Task<IReadOnlyList<SinkLine>> EmailAsync(string directory) => ReadAsync(directory, "email");

    public static Task<IReadOnlyList<SinkLine>> SmsAsync(string directory) => ReadAsync(directory, "sms");
}
