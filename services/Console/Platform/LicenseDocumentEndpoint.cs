using FaceId.Console.SignIn;
using FaceId.Contracts.Onboarding.V1;
using Grpc.Core;

namespace FaceId.Console.Platform;

/// <summary>
/// GET /license/{account}/{application}: the business license a reviewer judges, streamed from
/// Onboarding's ReadLicenseDocument with the signed-in user's token (each read is recorded there) and
/// served with its sniffed content type, so the page shows it inline in an img or embed element.
/// Only for a signed-in cookie (the fallback policy); the token never appears in the URL.
/// </summary>
public static class LicenseDocumentEndpoint
{
    public static WebApplication MapLicenseDocument(this WebApplication app)
    {
        app.MapGet("/license/{accountId}/{applicationId}", async (string accountId, string applicationId, HttpContext http, ServiceChannels channels) =>
        {
            var onboarding = new OnboardingService.OnboardingServiceClient(channels["Onboarding"]);
            using var call = onboarding.ReadLicenseDocument(new ReadLicenseDocumentRequest { AccountId = accountId, ApplicationId = applicationId },
                PlatformApi.WithToken(http.User.Token(), http.RequestAborted));
            try
            {
                if (!await call.ResponseStream.MoveNext(http.RequestAborted) || call.ResponseStream.Current.Info is not { } info)
                    return Results.Problem("The license stream carried no document header.", statusCode: StatusCodes.Status502BadGateway);
                http.Response.ContentType = info.ContentType;
                http.Response.ContentLength = info.SizeBytes;
                http.Response.Headers.CacheControl = "no-store";
                http.Response.Headers["X-Content-Type-Options"] = "nosniff";
                while (await call.ResponseStream.MoveNext(http.RequestAborted))
                    await http.Response.Body.WriteAsync(call.ResponseStream.Current.Data.Memory, http.RequestAborted);
                return Results.Empty;
            }
            catch (RpcException e) when (!http.Response.HasStarted)
            {
                return Results.Problem(ApiError.Describe(e), statusCode: ApiError.HttpStatus(e.StatusCode));
            }
        });
        return app;
    }
}
