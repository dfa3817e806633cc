using System.CommandLine;
using FaceId.Contracts.Onboarding.V1;
using Google.Protobuf;
using Grpc.Core;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>applications submit | list-pending | show | license | approve | reject</c> (OnboardingService: applying to open the service, the reviewers' queue).</summary>
public static class ApplicationsCommands
{
    /// <summary>License bytes per SubmitApplicationChunk: Onboarding's default <c>Documents:MaxChunkBytes</c> (64 KiB).</summary>
    public const int ChunkBytes = 64 * 1024;

    public const string DefaultScenario = "Not stated (submitted by an operator with faceidctl)";

    public static Command Build(CommandRunner runner)
    {
        var applications = new Command("applications", "Service applications awaiting review (OnboardingService)");
        applications.Add(Submit(runner));
        applications.Add(ListPending(runner));
        applications.Add(Show(runner));
        applications.Add(ReadLicense(runner));
        applications.Add(Review(runner, ReviewDecision.Approve));
        applications.Add(Review(runner, ReviewDecision.Reject));
        return applications;
    }

    private static Command Submit(CommandRunner runner)
    {
        var account = Common.Account("The main account applying to open the service");
        var license = new Option<FileInfo>("--license")
        {
            Description = "The business license: a PDF, JPEG or PNG file (the type is decided by its bytes), streamed in 64 KiB chunks",
            Required = true,
            HelpName = "file",
        };
        var scenario = new Option<string>("--scenario")
        {
            Description = $"Business scenario and needs, 1..2,000 characters (default: \"{DefaultScenario}\")",
            HelpName = "text",
        };
        var email = AccountsCommands.Email("Contact email of the application (default: the account's)");
        var phone = AccountsCommands.Phone("Contact mobile number of the application, 11 digits (default: the account's)");
        var contactName = AccountsCommands.ContactName("Contact person of the application (default: the account's)");
        var fileName = new Option<string>("--file-name") { Description = "File name shown to reviewers (default: the license file's name)", HelpName = "name" };
        var key = Common.Key("Idempotency key of the submission");
        var quiet = AccountsCommands.Quiet("application");
        var command = new Command("submit", "Apply to open the service: the form, then the license file streamed from disk (SubmitApplication)")
        {
            account, license, scenario, email, phone, contactName, fileName, key, quiet,
        };
        runner.Handle(command, async (ctx, parse) =>
        {
            var file = parse.GetValue(license)!;
            await using var stream = OpenLicense(file);
            var accountId = parse.GetValue(account) ?? "";
            var contact = new Contacts
            {
                Email = parse.GetValue(email) ?? "",
                Mobile = parse.GetValue(phone) ?? "",
                Name = parse.GetValue(contactName) ?? "",
            };
            if (contact.Email.Length == 0 || contact.Mobile.Length == 0 || contact.Name.Length == 0)
            {
                // The form needs all three: take what was not given from the account.
                var stored = (await ctx.Onboarding.GetAccountAsync(new GetAccountRequest { AccountId = accountId }, ctx.Call())).Contacts ?? new Contacts();
                if (contact.Email.Length == 0) contact.Email = stored.Email;
                if (contact.Mobile.Length == 0) contact.Mobile = stored.Mobile;
                if (contact.Name.Length == 0) contact.Name = stored.Name;
                var missing = new[] { (contact.Email, "--email"), (contact.Mobile, "--phone"), (contact.Name, "--contact-name") }
                    .Where(m => m.Item1.Length == 0).Select(m => m.Item2).ToList();
                if (missing.Count > 0)
                    throw new CliUsageException($"applications submit: account {accountId} has no contact {string.Join(", ", missing.Select(m => m.TrimStart('-')))}; " +
                        $"pass {string.Join(" ", missing)} (or set the account's contacts with 'faceidctl accounts contacts').");
            }

            using var call = ctx.Onboarding.SubmitApplication(ctx.Call());
            try
            {
                await call.RequestStream.WriteAsync(new SubmitApplicationChunk
                {
                    Form = new ApplicationForm
                    {
                        IdempotencyKey = parse.GetValue(key) is { Length: > 0 } k ? k : Values.NewKey(),
                        AccountId = accountId,
                        BusinessScenario = parse.GetValue(scenario) is { Length: > 0 } s ? s : DefaultScenario,
                        Contact = contact,
                        LicenseFileName = parse.GetValue(fileName) is { Length: > 0 } n ? n : file.Name,
                    },
                }, ctx.Cancellation);
                var buffer = new byte[ChunkBytes];
                int read;
                while ((read = await ReadChunkAsync(stream, buffer, file, ctx.Cancellation)) > 0)
                    await call.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = ByteString.CopyFrom(buffer, 0, read) }, ctx.Cancellation);
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception e) when (e is InvalidOperationException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // The server ended the call early (e.g. an unknown account): a write then fails, as completed or as
                // cancelled depending on timing; the server's own status is the answer below.
            }
            var application = await call.ResponseAsync;
            if (parse.GetValue(quiet)) ctx.Out.WriteLine(application.ApplicationId);
            else if (ctx.Json) ctx.WriteJson(application);
            else ctx.Console.Write(View(application));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Opens the license for sequential reading; a missing, unreadable or empty file is a usage error (exit 2).</summary>
    private static FileStream OpenLicense(FileInfo file)
    {
        if (Directory.Exists(file.FullName)) throw new CliUsageException($"applications submit: --license {file.FullName} is a directory, not a file.");
        FileStream stream;
        try
        {
            stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            var why = e is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : $"cannot be read: {ErrorReport.OneLine(e.Message)}";
            throw new CliUsageException($"applications submit: --license {file.FullName} {why}.");
        }
        if (stream.Length == 0)
        {
            stream.Dispose();
            throw new CliUsageException($"applications submit: --license {file.FullName} is empty.");
        }
        return stream;
    }

    /// <summary>Fills <paramref name="buffer"/> as far as the file allows (short reads are completed), so that every chunk but the last is full.</summary>
    private static async Task<int> ReadChunkAsync(FileStream stream, byte[] buffer, FileInfo file, CancellationToken cancellation)
    {
        try
        {
            return await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellation);
        }
        catch (IOException e)
        {
            throw new CliUsageException($"applications submit: cannot read {file.FullName}: {ErrorReport.OneLine(e.Message)}");
        }
    }

    private static Command ListPending(CommandRunner runner)
    {
        var pageSize = Common.PageSize();
        var limit = Common.Limit();
        var command = new Command("list-pending", "The reviewers' queue, oldest first, with each one's age in working days (every page)") { pageSize, limit };
        runner.Handle(command, async (ctx, parse) =>
        {
            var applications = await Common.AllPagesAsync(
                page => ctx.Onboarding.ListPendingApplicationsAsync(new ListPendingApplicationsRequest { Page = page }, ctx.Call()).ResponseAsync,
                r => r.Applications, r => r.NextPageToken, parse.GetValue(pageSize), parse.GetValue(limit));
            if (ctx.Json)
            {
                ctx.WriteJson(new ListPendingApplicationsResponse { Applications = { applications }, TargetWorkingDays = FaceId.Common.ReviewSla.TargetWorkingDays });
                return ExitCodes.Ok;
            }
            var table = Render.Table("application", "account", "submitted", "age (working days)", "license", "contact", "business scenario");
            foreach (var p in applications)
            {
                var a = p.Application;
                table.Row(a.ApplicationId, a.AccountId, a.SubmittedAt, Render.ReviewAge(p.AgeWorkingDays, p.Overdue), License(a.License), Contact(a.Contact), a.BusinessScenario);
            }
            table.Caption = new TableTitle(Markup.Escape($"{applications.Count} pending application(s); times in UTC+8"));
            ctx.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(CommandRunner runner)
    {
        var id = new Argument<string>("application-id") { Description = "The application to show" };
        var command = new Command("show", "An application: form, license, status, history and who read the license (GetApplication)") { id };
        runner.Handle(command, async (ctx, parse) =>
        {
            var application = await ctx.Onboarding.GetApplicationAsync(new GetApplicationRequest { ApplicationId = parse.GetValue(id) ?? "" }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(application);
            else ctx.Console.Write(View(application));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ReadLicense(CommandRunner runner)
    {
        var id = new Argument<string>("application-id") { Description = "The application whose business license to read" };
        var account = Common.Account("The account the application belongs to");
        var output = new Option<FileInfo>("--out") { Description = "File to write the license to (replaced if it exists)", Required = true, HelpName = "file" };
        var command = new Command("license", "Download an application's business license (ReadLicenseDocument; the read is recorded): writes the file, prints its type, size and SHA-256, verified") { id, account, output };
        runner.Handle(command, async (ctx, parse) =>
        {
            var file = parse.GetValue(output)!;
            if (Directory.Exists(file.FullName)) throw new CliUsageException($"applications license: --out {file.FullName} is a directory, not a file.");
            using var call = ctx.Onboarding.ReadLicenseDocument(new ReadLicenseDocumentRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                ApplicationId = parse.GetValue(id) ?? "",
            }, ctx.Call());
            // The first message is the metadata; a failure before it (not found, denied) writes no file.
            if (!await call.ResponseStream.MoveNext(ctx.Cancellation) || call.ResponseStream.Current.PartCase != LicenseDocumentChunk.PartOneofCase.Info)
            {
                await ctx.Err.WriteLineAsync($"{CliApp.Name}: applications license: the server sent no document information; no file written.");
                return ExitCodes.Unexpected;
            }
            var info = call.ResponseStream.Current.Info;
            var temp = file.FullName + ".part";
            long size = 0;
            string sha;
            try
            {
                using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                await using (var stream = OpenOutput(temp))
                {
                    while (await call.ResponseStream.MoveNext(ctx.Cancellation))
                    {
                        var data = call.ResponseStream.Current.Data.Memory;
                        hash.AppendData(data.Span);
                        size += data.Length;
                        await stream.WriteAsync(data, ctx.Cancellation);
                    }
                }
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (sha != info.Sha256 || size != info.SizeBytes)
                {
                    await ctx.Err.WriteLineAsync($"{CliApp.Name}: applications license: the bytes received ({size} B, SHA-256 {sha}) do not match " +
                        $"the stored document ({info.SizeBytes} B, SHA-256 {info.Sha256}); no file written.");
                    return ExitCodes.Unexpected;
                }
                File.Move(temp, file.FullName, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            if (ctx.Json) ctx.WriteJson(info);
            else ctx.Console.Write(Render.Fields(
            [
                ("application", parse.GetValue(id) ?? ""),
                ("type", info.ContentType),
                ("size", $"{info.SizeBytes} B"),
                ("sha256", $"{info.Sha256} (verified)"),
                ("file name", info.FileName),
                ("written to", file.FullName),
            ]));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static FileStream OpenOutput(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, ChunkBytes, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"applications license: cannot write {path}: {ErrorReport.OneLine(e.Message)}");
        }
    }

    private static Command Review(CommandRunner runner, ReviewDecision decision)
    {
        var approve = decision == ReviewDecision.Approve;
        var id = new Argument<string>("application-id") { Description = "The application to review" };
        var reviewer = new Option<string>("--reviewer") { Description = "Reviewer id, recorded in the application's history", Required = true, HelpName = "id" };
        var reason = new Option<string>("--reason") { Description = "Why it is rejected, 1..500 characters (sent to the applicant)", Required = !approve, HelpName = "text" };
        var key = Common.Key("Idempotency key of the review");
        var command = approve
            ? new Command("approve", "Approve an application: opens the account's service once (free trial packages follow)") { id, reviewer, key }
            : new Command("reject", "Reject an application with a reason") { id, reviewer, reason, key };
        runner.Handle(command, async (ctx, parse) =>
        {
            var application = await ctx.Onboarding.ReviewApplicationAsync(new ReviewApplicationRequest
            {
                ApplicationId = parse.GetValue(id) ?? "",
                Decision = decision,
                ReviewerId = parse.GetValue(reviewer) ?? "",
                Reason = approve ? "" : parse.GetValue(reason) ?? "",
                IdempotencyKey = parse.GetValue(key) is { Length: > 0 } k ? k : Values.NewKey(),
            }, ctx.Call());
            if (ctx.Json) ctx.WriteJson(application);
            else ctx.Console.Write(View(application));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Table View(Application a) => Render.Fields(
    [
        ("application", a.ApplicationId),
        ("account", a.AccountId),
        ("status", a.Status),
        ("review reason", a.ReviewReason),
        ("submitted (UTC+8)", a.SubmittedAt),
        ("reviewed (UTC+8)", a.ReviewedAt),
        ("license", License(a.License)),
        ("contact", Contact(a.Contact)),
        ("history", string.Join("; ", a.History.Select(h => $"{Render.Enum(h.Status)} {Render.Time(h.At)} {h.Actor} {h.Reason}".Trim()))),
        ("license reads", a.LicenseReads.Count == 0 ? "none" :
            string.Join("; ", a.LicenseReads.Select(r => $"{Render.Time(r.At)} {r.Subject} ({string.Join(", ", r.Roles)})"))),
    ]);

    private static string License(LicenseDocument? d) =>
        d is null ? "" : $"{Render.Enum(d.Type)} {d.SizeBytes} B {(d.Sha256.Length > 12 ? d.Sha256[..12] + "…" : d.Sha256)}".Trim();

    private static string Contact(Contacts? c) =>
        c is null ? "" : string.Join(", ", new[] { c.Name, c.Email, c.Mobile }.Where(s => s.Length > 0));
}
