using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FaceId.Contracts.Metering.V1;
using Google.Protobuf;
using Grpc.Core;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary>
/// <c>usage replay FILE</c>: a JSON-lines file of <c>faceid.metering.v1.UsageRecord</c> (protobuf
/// JSON mapping, one per line; blank lines and lines starting with <c>#</c> are skipped) sent with
/// RecordUsageBatch in batches. Every record lands in exactly one bucket of the summary: charged to
/// a package, postpaid, not billable, refused (new outcomes), duplicate (request id already
/// recorded: the original outcome came back, nothing charged again), id reused (the request id was
/// recorded for another call: refused, nothing charged), or error (not a UsageRecord,
/// or refused by the server as INVALID_ARGUMENT). Replaying a file again is safe: every record
/// comes back as a duplicate.
/// </summary>
public static class UsageReplay
{
    public const int MaxBatchSize = 5000;

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default);

    public static Command Build(CommandRunner runner)
    {
        var file = new Argument<FileInfo>("file")
        {
            Description = "JSON lines: one faceid.metering.v1.UsageRecord per line in the protobuf JSON mapping",
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = $"Records per RecordUsageBatch call (1..{MaxBatchSize})",
            DefaultValueFactory = _ => 500,
            Validators =
            {
                r =>
                {
                    if (r.GetValueOrDefault<int>() is < 1 or > MaxBatchSize) r.AddError($"--batch-size must be 1..{MaxBatchSize}.");
                },
            },
        };
        var retries = new Option<int>("--retries")
        {
            Description = "Retries of a batch after UNAVAILABLE or DEADLINE_EXCEEDED (safe: request ids make them idempotent)",
            DefaultValueFactory = _ => 3,
            Validators =
            {
                r =>
                {
                    if (r.GetValueOrDefault<int>() is < 0 or > 20) r.AddError("--retries must be 0..20.");
                },
            },
        };
        var noProgress = new Option<bool>("--no-progress")
        {
            Description = "No progress on stderr (by default a bar on a terminal; otherwise a plain line every 10 % or 2 s, and a final one)",
        };
        var command = new Command("replay", "Send a JSON-lines file of usage records in batches; prints a summary")
        {
            file, batchSize, retries, noProgress,
        };
        runner.Handle(command, (ctx, parse) => RunAsync(ctx, parse.GetValue(file)!, parse.GetValue(batchSize), parse.GetValue(retries), !parse.GetValue(noProgress) && !ctx.Json));
        return command;
    }

    public sealed class Summary
    {
        public required string File { get; init; }
        public long Records { get; set; }
        public long Package { get; set; }
        public long Postpaid { get; set; }
        public long NotBillable { get; set; }
        public long Refused { get; set; }
        public long Duplicates { get; set; }
        public long IdReused { get; set; }
        public long Errors { get; set; }
        public long Batches { get; set; }
        public TimeSpan Elapsed { get; set; }
        public double RecordsPerSecond => Elapsed > TimeSpan.Zero ? Records / Elapsed.TotalSeconds : 0;

        public void Count(UsageOutcome outcome)
        {
            if (outcome.Duplicate) Duplicates++;
            else if (outcome.Refusal == Refusal.IdempotencyKeyReused) IdReused++;
            else if (outcome.Kind == ChargeKind.Package) Package++;
            else if (outcome.Kind == ChargeKind.Postpaid) Postpaid++;
            else if (outcome.Kind == ChargeKind.NotBillable) NotBillable++;
            else if (outcome.Kind == ChargeKind.Refused) Refused++;
            else Errors++;
        }
    }

    private static async Task<int> RunAsync(CliContext ctx, FileInfo file, int batchSize, int retries, bool progress)
    {
        if (!file.Exists) throw new CliUsageException($"usage replay: {file.FullName} does not exist.");
        var total = 0L;
        try
        {
            foreach (var line in File.ReadLines(file.FullName))
                if (IsRecord(line)) total++;
        }
        catch (IOException e)
        {
            throw new CliUsageException($"usage replay: cannot read {file.FullName}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliUsageException($"usage replay: cannot read {file.FullName}: {e.Message}");
        }

        var summary = new Summary { File = file.FullName };
        var problems = new Problems(ctx.Err);
        var clock = Stopwatch.StartNew();
        try
        {
            if (progress && !ctx.ErrorIsTerminal)
            {
                // Off a terminal a live bar cannot redraw (it would stay at its first frame): plain lines.
                var lines = new PlainProgress(ctx.Err, total, clock);
                try
                {
                    await SendAllAsync(ctx, file, batchSize, retries, summary, problems, lines.Advance);
                }
                finally
                {
                    lines.Finish();
                }
            }
            else if (progress)
            {
                await ctx.ErrorConsole.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async p =>
                    {
                        var task = p.AddTask(Markup.Escape($"replay {file.Name} ({total} records)"), maxValue: Math.Max(total, 1));
                        await SendAllAsync(ctx, file, batchSize, retries, summary, problems, n => task.Increment(n));
                        task.Value = task.MaxValue;
                    });
            }
            else
            {
                await SendAllAsync(ctx, file, batchSize, retries, summary, problems, _ => { });
            }
        }
        catch (RpcException)
        {
            // Stopped by a failure other than an invalid record: show what was done, then the error.
            summary.Elapsed = clock.Elapsed;
            problems.Flush();
            Write(ctx, summary);
            throw;
        }
        summary.Elapsed = clock.Elapsed;
        problems.Flush();
        Write(ctx, summary);
        if (summary.Errors == 0) return ExitCodes.Ok;
        await ctx.Err.WriteLineAsync($"{CliApp.Name}: {summary.Errors} of {summary.Records} records were not accepted (see above).");
        return ExitCodes.InvalidArgument;
    }

    private static bool IsRecord(string line)
    {
        var t = line.AsSpan().Trim();
        return t.Length > 0 && t[0] != '#';
    }

    private static async Task SendAllAsync(CliContext ctx, FileInfo file, int batchSize, int retries, Summary summary, Problems problems, Action<int> advance)
    {
        var batch = new List<(long Line, UsageRecord Record)>(batchSize);
        var number = 0L;
        using var reader = file.OpenText();
        while (await reader.ReadLineAsync(ctx.Cancellation) is { } line)
        {
            number++;
            if (!IsRecord(line)) continue;
            summary.Records++;
            UsageRecord record;
            try
            {
                record = Parser.Parse<UsageRecord>(line);
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
            {
                summary.Errors++;
                problems.Add($"line {number}: not a faceid.metering.v1.UsageRecord: {ErrorReport.OneLine(e.Message)}");
                advance(1);
                continue;
            }
            batch.Add((number, record));
            if (batch.Count < batchSize) continue;
            await SendAsync(ctx, batch, retries, summary, problems);
            advance(batch.Count);
            batch.Clear();
        }
        if (batch.Count > 0)
        {
            await SendAsync(ctx, batch, retries, summary, problems);
            advance(batch.Count);
        }
    }

    private static async Task SendAsync(CliContext ctx, List<(long Line, UsageRecord Record)> batch, int retries, Summary summary, Problems problems)
    {
        summary.Batches++;
        var request = new RecordUsageBatchRequest { Records = { batch.Select(b => b.Record) } };
        RecordUsageBatchResponse response;
        try
        {
            response = await WithRetriesAsync(ctx, retries, () => ctx.Metering.RecordUsageBatchAsync(request, ctx.Call()).ResponseAsync);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            // The batch names the bad records (records[i].…); send them one by one so that only
            // those count as errors. Safe: a record that did land comes back as a duplicate.
            foreach (var (line, record) in batch)
            {
                try
                {
                    var single = await WithRetriesAsync(ctx, retries, () => ctx.Metering.RecordUsageAsync(new RecordUsageRequest { Record = record }, ctx.Call()).ResponseAsync);
                    summary.Count(single.Outcome);
                }
                catch (RpcException r) when (r.StatusCode == StatusCode.InvalidArgument)
                {
                    summary.Errors++;
                    problems.Add($"line {line}: {ErrorReport.Brief(r)}");
                }
            }
            return;
        }
        if (response.Outcomes.Count != batch.Count)
            throw new InvalidOperationException($"RecordUsageBatch answered {response.Outcomes.Count} outcomes for {batch.Count} records.");
        foreach (var outcome in response.Outcomes) summary.Count(outcome);
    }

    private static async Task<T> WithRetriesAsync<T>(CliContext ctx, int retries, Func<Task<T>> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException e) when (attempt < retries && e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && !ctx.Cancellation.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200 * Math.Pow(2, attempt), 5000)), ctx.Cancellation);
            }
        }
    }

    private static void Write(CliContext ctx, Summary s)
    {
        if (ctx.Json)
        {
            ctx.Out.WriteLine(ToJson(s));
            return;
        }
        var table = Render.Table(">records", ">package", ">postpaid", ">not billable", ">refused", ">duplicates", ">id reused", ">errors", ">elapsed", ">rate");
        table.Title = new TableTitle(Markup.Escape($"replay of {Path.GetFileName(s.File)} ({s.Batches} batches)"));
        table.Row(s.Records, s.Package, s.Postpaid, s.NotBillable, s.Refused, s.Duplicates, s.IdReused, s.Errors,
            string.Create(CultureInfo.InvariantCulture, $"{s.Elapsed.TotalSeconds:0.00} s"),
            string.Create(CultureInfo.InvariantCulture, $"{s.RecordsPerSecond:0.0}/s"));
        ctx.Console.Write(table);
    }

    public static string ToJson(Summary s)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", s.File);
            w.WriteNumber("records", s.Records);
            w.WriteNumber("package", s.Package);
            w.WriteNumber("postpaid", s.Postpaid);
            w.WriteNumber("notBillable", s.NotBillable);
            w.WriteNumber("refused", s.Refused);
            w.WriteNumber("duplicates", s.Duplicates);
            w.WriteNumber("idReused", s.IdReused);
            w.WriteNumber("errors", s.Errors);
            w.WriteNumber("batches", s.Batches);
            w.WriteNumber("elapsedMs", Math.Round(s.Elapsed.TotalMilliseconds, 1));
            w.WriteNumber("recordsPerSecond", Math.Round(s.RecordsPerSecond, 1));
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Progress when stderr is not a terminal (CI, a log file): one plain line each time another 10 %
    /// is done or <see cref="Interval"/> has passed, and always a final line:
    /// <c>replay: 12,000/50,000 records (24%), 8,123 records/s</c>.
    /// </summary>
    public sealed class PlainProgress(TextWriter err, long total, Stopwatch clock)
    {
        public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

        private long _done;
        private long _lastTenth;
        private TimeSpan _lastAt = TimeSpan.Zero;

        public void Advance(int records)
        {
            _done += records;
            if (_done >= total) return; // the final line is Finish's
            var tenth = _done * 10 / Math.Max(total, 1);
            var now = clock.Elapsed;
            if (tenth <= _lastTenth && now - _lastAt < Interval) return;
            _lastTenth = tenth;
            _lastAt = now;
            err.WriteLine(Line(_done, total, now));
        }

        /// <summary>The last line: 100 % after a complete run, where it stopped otherwise.</summary>
        public void Finish() => err.WriteLine(Line(_done, total, clock.Elapsed));

        public static string Line(long done, long total, TimeSpan elapsed)
        {
            var percent = total == 0 ? 100 : done * 100 / total;
            var rate = elapsed > TimeSpan.Zero ? done / elapsed.TotalSeconds : 0;
            return string.Create(CultureInfo.InvariantCulture, $"replay: {done:N0}/{total:N0} records ({percent}%), {rate:N0} records/s");
        }
    }

    /// <summary>
    /// Problems with single records, written to stderr after the progress bar is done: the first
    /// 20, then a count of the rest.
    /// </summary>
    private sealed class Problems(TextWriter err)
    {
        private const int Shown = 20;
        private readonly List<string> _messages = [];
        private int _count;

        public void Add(string message)
        {
            if (++_count <= Shown) _messages.Add(message);
        }

        public void Flush()
        {
            foreach (var message in _messages) err.WriteLine($"{CliApp.Name}: {message}");
            if (_count > Shown) err.WriteLine($"{CliApp.Name}: … and {_count - Shown} more records not accepted.");
            _messages.Clear();
            _count = 0;
        }
    }
}
