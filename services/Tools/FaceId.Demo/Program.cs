using FaceId.Demo;

// Usage: FaceId.Demo [health|slice] [--host 127.0.0.1] [--timeout-seconds 60] [--ports onboarding=5101,packages=5102,...]
//        FaceId.Demo token <role> [--account ID] [--subject NAME] [--hours 12]   (key from Auth__SigningKey)
var command = args.FirstOrDefault(a => !a.StartsWith("--") && Array.IndexOf(args, a) is var i && (i == 0 || !args[i - 1].StartsWith("--"))) ?? "slice";
if (command == "token") return LocalTokens.Run(args.SkipWhile(a => a != "token").Skip(1).ToArray(), Console.Out, Console.Error);

var host = Option("--host") ?? "127.0.0.1";
var timeout = TimeSpan.FromSeconds(int.Parse(Option("--timeout-seconds") ?? "60"));
// --ports: only these services, on these ports (tests run them on free ports); default the five fixed ports.
var ports = Option("--ports")?.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('='))
    .ToDictionary(p => p[0], p => int.Parse(p[1]));
var platform = new PlatformClients(host, ports);
try
{
    // `slice` waits too, quietly: ./faceid run has just shown each service coming up with `health`.
    if (!await platform.WaitHealthyAsync(timeout, command == "slice" ? TextWriter.Null : Console.Out)) return 1;
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
    Console.Error.WriteLine("usage: FaceId.Demo [health|slice] [--host 127.0.0.1] [--timeout-seconds 60] [--ports onboarding=5101,packages=5102,metering=5103]");
    Console.Error.WriteLine("       FaceId.Demo token <role> [--account ID] [--subject NAME] [--hours 12]");
    return 2;
}
