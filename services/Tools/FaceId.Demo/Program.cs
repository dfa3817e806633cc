using FaceId.Demo;

// Usage: FaceId.Demo [health|slice] [--host 127.0.0.1] [--timeout-seconds 60]
var command = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "slice";
var host = Option("--host") ?? "127.0.0.1";
var timeout = TimeSpan.FromSeconds(int.Parse(Option("--timeout-seconds") ?? "60"));
var platform = new PlatformClients(host);
try
{
    if (!await platform.WaitHealthyAsync(timeout, Console.Out)) return 1;
    return command switch
    {
        "health" => 0,
        "slice" => await new SliceDemo(platform, Console.Out).RunAsync(timeout),
        _ => Usage(),
    };
}
catch (Exception e)
{
    await Console.Error.WriteLineAsync($"demo failed: {e.Message}");
    return 1;
}

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static int Usage()
{
    Console.Error.WriteLine("usage: FaceId.Demo [health|slice] [--host 127.0.0.1] [--timeout-seconds 60]");
    return 2;
}
