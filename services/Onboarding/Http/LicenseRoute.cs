using System.Reflection;
using FaceId.Common;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Onboarding.Application;
using FaceId.Onboarding.Grpc;
using FaceId.ServiceDefaults;
using FaceId.ServiceDefaults.HttpJson;
using FaceId.ServiceDefaults.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace FaceId.Onboarding.Http;

/// <summary>
/// <c>GET /v1/accounts/{account_id}/applications/{application_id}/license</c> on the HTTP/1.1 port:
/// the stored business license as raw bytes with its sniffed Content-Type, for a browser's
/// <c>&lt;img src&gt;</c> or PDF viewer (transcoding would turn the server-streaming
/// <c>ReadLicenseDocument</c> into a JSON array). It runs the same checks as the gRPC method — its
/// <see cref="AllowAttribute"/>, through <see cref="HttpCallerCheck"/> — and the
/// same application class (which records the read), and answers errors as problem details.
/// </summary>
public static class LicenseRoute
{
    public const string Pattern = "/v1/accounts/{account_id}/applications/{application_id}/license";
    private const string GrpcMethod = "/faceid.onboarding.v1.OnboardingService/ReadLicenseDocument";

    private static readonly AllowAttribute Allow = typeof(OnboardingGrpcService)
        .GetMethod(nameof(OnboardingGrpcService.ReadLicenseDocument))!.GetCustomAttribute<AllowAttribute>()!;

    public static void Map(WebApplication app)
    {
        var route = app.MapGet(Pattern, ReadAsync)
            .WithName("ReadLicenseDocumentRaw")
            .WithTags("faceid.onboarding.v1.OnboardingService")
            .WithSummary("The business license of an application, as raw bytes (image/png, image/jpeg or application/pdf).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream", additionalContentTypes: ["image/png", "image/jpeg", "application/pdf"])
            .Produces(StatusCodes.Status400BadRequest, contentType: ProblemDetailsMiddleware.ContentType)
            .Produces(StatusCodes.Status401Unauthorized, contentType: ProblemDetailsMiddleware.ContentType)
            .Produces(StatusCodes.Status403Forbidden, contentType: ProblemDetailsMiddleware.ContentType)
            .Produces(StatusCodes.Status404NotFound, contentType: ProblemDetailsMiddleware.ContentType);
        if (app.Configuration.GetValue<int?>("Ports:Http") is { } http) route.RequireHost($"*:{http}");
    }

    private static async Task ReadAsync(HttpContext http,
        [FromRoute(Name = "account_id")] string accountId, [FromRoute(Name = "application_id")] string applicationId,
        ServiceApplications applications, ILoggerFactory loggers)
    {
        var request = new ReadLicenseDocumentRequest { AccountId = accountId, ApplicationId = applicationId };
        if (!await http.RequestServices.GetRequiredService<HttpCallerCheck>().AllowAsync(http, Allow, request, GrpcMethod)) return;
        OpenedLicense license;
        try
        {
            var caller = CallerIdentity.From(http.User);
            license = await applications.OpenLicenseAsync(accountId, applicationId, new LicenseReader(caller.Subject, caller.Roles));
        }
        catch (Exception e)
        {
            await ProblemDetailsMiddleware.WriteAsync(http.Response, e, loggers.CreateLogger(typeof(LicenseRoute)), Pattern);
            return;
        }

        await using (license)
        {
            var doc = license.Application.License;
            var response = http.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = license.ContentType;
            response.ContentLength = doc.SizeBytes;
            var disposition = new ContentDispositionHeaderValue("inline");
            disposition.SetHttpFileName(FileName(license.Application));
            response.Headers.ContentDisposition = disposition.ToString();
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers.CacheControl = "no-store";
            await license.Content.CopyToAsync(response.Body, applications.MaxChunkBytes, http.RequestAborted);
        }
    }

    /// <summary>The uploaded name if one was given, else <c>license-&lt;application&gt;.&lt;ext&gt;</c>.</summary>
    private static string FileName(ApplicationRecord app)
    {
        var name = Path.GetFileName(app.LicenseFileName.Replace('\\', '/')).Trim();
        if (name.Length > 0 && !name.Any(char.IsControl)) return name;
        return $"license-{app.Id}." + app.License.Kind switch
        {
            DocumentKind.Pdf => "pdf",
            DocumentKind.Jpeg => "jpg",
            DocumentKind.Png => "png",
            var other => throw new InvalidOperationException($"unknown document kind '{other}'"),
        };
    }
}
