using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi.Models;

namespace FaceId.ServiceDefaults.HttpJson;

/// <summary>
/// HTTP/JSON for front ends that do not speak gRPC (docs/api.md, "HTTP/JSON for console front ends"): the methods annotated with
/// <c>google.api.http</c> in protos/ are transcoded by grpc-dotnet, so they run through the same
/// interceptors (authentication, [Allow], account ownership, rate limits, error mapping) as gRPC
/// calls. Errors leave as RFC 9457 problem details carrying the gRPC status
/// (<see cref="ProblemDetailsMiddleware"/>). Each service serves its OpenAPI document, generated
/// from the protos, at <see cref="OpenApiPath"/> on its HTTP/1.1 port.
/// </summary>
public static class HttpJsonExtensions
{
    public const string OpenApiPath = "/openapi/v1.json";

    public static IGrpcServerBuilder AddHttpJson(this IGrpcServerBuilder grpc, string appId)
    {
        // The error details the interceptors attach (google.rpc.BadRequest, ErrorInfo, ...) must be
        // known to the JSON writer, or an error with details fails to serialize.
        grpc.AddJsonTranscoding(o => o.TypeRegistry = TypeRegistry.FromFiles(Google.Rpc.ErrorDetailsReflection.Descriptor));
        var services = grpc.Services;
        services.AddGrpcSwagger();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = $"FaceId {appId}",
                Version = "v1",
                Description = "HTTP/JSON transcoding of the console-facing gRPC methods. Authenticate with "
                    + "`Authorization: Bearer <token>`; errors are application/problem+json with the gRPC status.",
            });
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT" });
            o.AddSecurityRequirement(new OpenApiSecurityRequirement
            {
                [new OpenApiSecurityScheme { Reference = new OpenApiReference { Type = ReferenceType.SecurityScheme, Id = "bearer" } }] = [],
            });
            var comments = Path.Combine(AppContext.BaseDirectory, "FaceId.Contracts.xml");
            if (File.Exists(comments)) o.IncludeGrpcXmlComments(comments, includeControllerXmlComments: true);
        });
        return grpc;
    }

    /// <summary>Problem details for transcoded errors; the OpenAPI document on the HTTP/1.1 port only.</summary>
    public static WebApplication UseHttpJson(this WebApplication app)
    {
        app.UseMiddleware<ProblemDetailsMiddleware>();
        var document = app.MapSwagger("/openapi/{documentName}.json");
        if (app.Configuration.GetValue<int?>("Ports:Http") is { } http) document.RequireHost($"*:{http}");
        return app;
    }

    /// <summary>
    /// Query values in the forms people type and no unknown body fields (<see cref="HttpJsonRequestMiddleware"/>).
    /// After authentication, so that a caller without a valid token learns only that (401), not the body's schema.
    /// </summary>
    public static WebApplication UseHttpJsonRequestChecks(this WebApplication app)
    {
        app.UseMiddleware<HttpJsonRequestMiddleware>();
        return app;
    }
}
