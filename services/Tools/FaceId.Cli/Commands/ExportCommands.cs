using System.CommandLine;
using System.Text;
using FaceId.Contracts.Billing.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FaceId.Cli.Commands;

/// <summary><c>export statistics | bills</c> (BillingService ExportStatistics, ExportBills): the file, streamed to stdout or <c>--out</c>.</summary>
public static class ExportCommands
{
    public static Command Build(CommandRunner runner)
    {
        var export = new Command("export", "Statistics and bills as files (CSV or JSON Lines) for the customer's books (Billing)");
        export.Add(Statistics(runner));
        export.Add(Bills(runner));
        return export;
    }

    private static Command Statistics(CommandRunner runner)
    {
        var account = Common.Account();
        var (from, to) = Range();
        var granularity = Values.EnumOption<Granularity>("--granularity", "Rows per Shanghai calendar day or month", Granularity.Day);
        var byMode = new Option<bool>("--by-access-mode") { Description = "One row per access mode too" };
        var bySub = new Option<bool>("--by-sub-account") { Description = "One row per sub-account too" };
        var format = FormatOption();
        var output = OutOption();
        var command = new Command("statistics", "The rows of `stats` as a file ([from, to) at most 400 days)")
        {
            account, from, to, granularity, byMode, bySub, format, output,
        };
        runner.Handle(command, async (ctx, parse) =>
        {
            var (f, t) = Defaults(parse.GetValue(from), parse.GetValue(to));
            var call = ctx.Billing.ExportStatistics(new ExportStatisticsRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                From = Timestamp.FromDateTimeOffset(f),
                To = Timestamp.FromDateTimeOffset(t),
                Granularity = parse.GetValue(granularity) ?? Granularity.Day,
                ByAccessMode = parse.GetValue(byMode),
                BySubAccount = parse.GetValue(bySub),
                Format = parse.GetValue(format) ?? ExportFormat.Csv,
            }, ctx.Call());
            return await SaveAsync(ctx, call, parse.GetValue(output));
        });
        return command;
    }

    private static Command Bills(CommandRunner runner)
    {
        var account = Common.Account();
        var (from, to) = Range();
        var format = FormatOption();
        var output = OutOption();
        var command = new Command("bills", "Every bill whose period overlaps [from, to), oldest first, with its lines, as a file (at most 400 days)")
        {
            account, from, to, format, output,
        };
        runner.Handle(command, async (ctx, parse) =>
        {
            var (f, t) = Defaults(parse.GetValue(from), parse.GetValue(to));
            var call = ctx.Billing.ExportBills(new ExportBillsRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                From = Timestamp.FromDateTimeOffset(f),
                To = Timestamp.FromDateTimeOffset(t),
                Format = parse.GetValue(format) ?? ExportFormat.Csv,
            }, ctx.Call());
            return await SaveAsync(ctx, call, parse.GetValue(output));
        });
        return command;
    }

    private static (Option<DateTimeOffset?> From, Option<DateTimeOffset?> To) Range() =>
    (
        Values.InstantOption("--from", "Start of the range, inclusive (default: the first day of this month, Shanghai)"),
        Values.InstantOption("--to", "End of the range, exclusive (default: tomorrow 00:00, Shanghai)")
    );

    private static Option<ExportFormat?> FormatOption() => Values.EnumOption<ExportFormat>("--format", "File format", ExportFormat.Csv);

    private static Option<string?> OutOption() => new("--out", "-o")
    {
        Description = "Write the file here (written as FILE.partial, renamed when complete); default: stdout",
        HelpName = "file",
    };

    private static (DateTimeOffset From, DateTimeOffset To) Defaults(DateTimeOffset? from, DateTimeOffset? to)
    {
        var today = DateTimeOffset.UtcNow.ToOffset(Render.Shanghai);
        var midnight = new DateTimeOffset(today.Date, Render.Shanghai);
        return (from ?? midnight.AddDays(1 - today.Day), to ?? midnight.AddDays(1));
    }

    /// <summary>A chunk's text; a character split between two chunks is completed by the next one.</summary>
    private static char[] Decode(Decoder decoder, ReadOnlySpan<byte> data)
    {
        var chars = new char[decoder.GetCharCount(data, flush: false)];
        decoder.GetChars(data, chars, flush: false);
        return chars;
    }

    /// <summary>Streams the chunks to the file or stdout as they come; says on stderr what was written where.</summary>
    private static async Task<int> SaveAsync(CliContext ctx, AsyncServerStreamingCall<ExportChunk> call, string? path)
    {
        using (call)
        {
            var stream = call.ResponseStream;
            if (!await stream.MoveNext(ctx.Cancellation) || stream.Current.PartCase != ExportChunk.PartOneofCase.Header)
                throw new InvalidOperationException("the export did not start with its header");
            var header = stream.Current.Header;
            long bytes = 0;
            if (string.IsNullOrEmpty(path))
            {
                var decoder = Encoding.UTF8.GetDecoder();
                while (await stream.MoveNext(ctx.Cancellation))
                {
                    var chars = Decode(decoder, stream.Current.Data.Span);
                    await ctx.Out.WriteAsync(chars);
                    bytes += stream.Current.Data.Length;
                }
                await ctx.Out.FlushAsync();
                return ExitCodes.Ok;
            }
            var partial = path + ".partial";
            try
            {
                await using var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
                while (await stream.MoveNext(ctx.Cancellation))
                {
                    await file.WriteAsync(stream.Current.Data.Memory, ctx.Cancellation);
                    bytes += stream.Current.Data.Length;
                }
            }
            catch
            {
                // No half file left behind for someone's books.
                File.Delete(partial);
                throw;
            }
            File.Move(partial, path, overwrite: true);
            await ctx.Err.WriteLineAsync($"Wrote {bytes} bytes ({header.ContentType}) to {path} (suggested name: {header.FileName}).");
            return ExitCodes.Ok;
        }
    }
}
