using System.Text.RegularExpressions;

namespace FaceId.Examples.Tests;

/// <summary>One command line of a shell block, continuation lines and multi-line quotes joined.</summary>
public sealed record CommandLine(int Line, string Text)
{
    /// <summary>The first word of the command, after leading VAR=value assignments.</summary>
    public string Command
    {
        get
        {
            foreach (var word in Code.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
                if (word != "\\" && !DocBlocks.Assignment().IsMatch(word)) return word;
            return "";
        }
    }

    /// <summary>The command without its trailing comment.</summary>
    public string Code => DocBlocks.StripComment(Text).Trim();

    /// <summary>Calls one of the clients a user pastes: faceidctl, curl or ./faceid (also inside $(…)).</summary>
    public bool CallsPlatform => DocBlocks.PlatformCall().IsMatch(Code);

    /// <summary>Needs what these machines do not have (a container engine, a cluster, grpcurl, Dapr, Tye) or is a build/test step.</summary>
    public bool NeedsElsewhere => DocBlocks.Elsewhere.Contains(Command);
}

/// <summary>A fenced shell block of a markdown file.</summary>
public sealed record ShellBlock(string File, int Line, string Text, IReadOnlyList<CommandLine> Commands)
{
    public bool Runnable => Commands.Any(c => c.CallsPlatform) && !Commands.Any(c => c.NeedsElsewhere);

    public bool Mixed => Commands.Any(c => c.CallsPlatform) && Commands.Any(c => c.NeedsElsewhere);

    public bool UsesGrpcurl => Commands.Any(c => c.Command == "grpcurl");

    public override string ToString() => $"{File}:{Line}";
}

/// <summary>Reads the shell blocks (```bash, ```sh, ```shell) of the documents users paste from.</summary>
public static partial class DocBlocks
{
    /// <summary>The documents whose examples run, in reading order (state such as $ACCOUNT carries over).</summary>
    public static readonly string[] Documents = ["README.md", "docs/api.md", "deploy/README.md"];

    public static readonly IReadOnlySet<string> Elsewhere = new HashSet<string> { "docker", "kubectl", "dapr", "tye", "grpcurl", "helm", "dotnet" };

    public static string RepoRoot { get; } = FindRoot();

    public static IReadOnlyList<ShellBlock> All { get; } = Documents.SelectMany(Read).ToList();

    public static IEnumerable<ShellBlock> Read(string relative)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot, relative));
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = Fence().Match(lines[i]);
            if (!fence.Success) continue;
            var indent = fence.Groups["indent"].Value.Length;
            var lang = fence.Groups["lang"].Value;
            var start = i + 1;
            var body = new List<string>();
            for (i++; i < lines.Length && !lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal); i++)
                body.Add(lines[i].Length >= indent ? lines[i][indent..] : lines[i].TrimStart());
            if (lang is "bash" or "sh" or "shell")
                yield return new ShellBlock(relative, start, string.Join('\n', body), Commands(body, start + 1));
        }
    }

    /// <summary>Logical command lines: '\' continuations and lines inside an open single quote are joined; comments and blanks dropped.</summary>
    private static List<CommandLine> Commands(List<string> body, int firstLine)
    {
        var result = new List<CommandLine>();
        var current = "";
        var startLine = 0;
        var inQuote = false;
        for (var k = 0; k < body.Count; k++)
        {
            var line = body[k];
            if (current.Length == 0)
            {
                if (line.TrimStart().StartsWith('#') || line.Trim().Length == 0) continue;
                startLine = firstLine + k;
            }
            current += (current.Length > 0 ? "\n" : "") + line;
            foreach (var c in line) if (c == '\'') inQuote = !inQuote;
            if (inQuote || line.EndsWith('\\')) continue;
            result.Add(new CommandLine(startLine, current));
            current = "";
        }
        if (current.Length > 0) result.Add(new CommandLine(startLine, current));
        return result;
    }

    /// <summary>The line without a trailing shell comment (a '#' that starts a word outside quotes).</summary>
    public static string StripComment(string line)
    {
        var single = false; var dbl = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\'' && !dbl) single = !single;
            else if (c == '"' && !single) dbl = !dbl;
            else if (c == '#' && !single && !dbl && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i].TrimEnd();
        }
        return line;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FaceIdPlatform.sln"))) return dir.FullName;
        throw new InvalidOperationException("FaceIdPlatform.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^(?<indent>\s*)```(?<lang>[a-z]*)\s*$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*=")]
    internal static partial Regex Assignment();

    [GeneratedRegex(@"(^|[\s(|;&`])(faceidctl|curl|\./faceid)(\s|$)")]
    internal static partial Regex PlatformCall();
}
