using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FaceId.Auth;
using FaceId.Billing.Grpc;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using FaceId.Metering.Grpc;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.Refund.Grpc;
using FaceId.ServiceDefaults.Security;
using FaceId.TestKit;
using Google.Api;
using Google.Protobuf.Reflection;
using Xunit;

namespace FaceId.HttpJson.Tests;

/// <summary>
/// Which methods are on HTTP (every unary method a console may call, and only those), the
/// OpenAPI document each service serves, and the errors every route shares (no token, malformed
/// JSON, over the rate limit).
/// </summary>
[Collection(HttpPlatformCollection.Name)]
public sealed partial class SurfaceTests(HttpPlatform platform)
{
    private sealed record Rpc(string Service, MethodDescriptor Method, Type Implementation)
    {
        public HttpRule? Http => Method.GetOptions()?.GetExtension(AnnotationsExtensions.Http);

        public AllowAttribute? Allow => Implementation.GetMethod(Method.Name)?.GetCustomAttribute<AllowAttribute>();

        public override string ToString() => $"{Service}/{Method.Name}";

        public (string Verb, string Path) Route => Http!.PatternCase switch
        {
            HttpRule.PatternOneofCase.Get => ("get", Http.Get),
            HttpRule.PatternOneofCase.Post => ("post", Http.Post),
            HttpRule.PatternOneofCase.Put => ("put", Http.Put),
            HttpRule.PatternOneofCase.Delete => ("delete", Http.Delete),
            HttpRule.PatternOneofCase.Patch => ("patch", Http.Patch),
            _ => throw new InvalidOperationException($"{this}: unsupported HTTP rule {Http}"),
        };
    }

    private static readonly IReadOnlyList<Rpc> All =
    [
        .. Of("FaceId.Onboarding", OnboardingService.Descriptor, typeof(OnboardingGrpcService)),
        .. Of("FaceId.Packages", PackagesService.Descriptor, typeof(PackagesGrpcService)),
        .. Of("FaceId.Metering", MeteringService.Descriptor, typeof(MeteringGrpcService)),
        .. Of("FaceId.Billing", BillingService.Descriptor, typeof(BillingGrpcService)),
        .. Of("FaceId.Refund", RefundService.Descriptor, typeof(RefundGrpcService)),
    ];

    private static IEnumerable<Rpc> Of(string service, ServiceDescriptor descriptor, Type implementation) =>
        descriptor.Methods.Select(m => new Rpc(service, m, implementation));

    [Fact]
    public void Every_method_on_HTTP_has_a_case_in_the_table_and_no_case_is_stale()
    {
        var onHttp = All.Where(r => r.Http is not null).Select(r => r.ToString()).Order().ToList();
        Assert.Equal(onHttp, ConsoleMethods.All.Select(c => c.ToString()).Order().ToList());
    }

    [Fact]
    public void Exactly_the_unary_methods_a_console_caller_may_call_are_on_HTTP()
    {
        var console = All.Where(r => r.Allow?.Roles.Contains(Roles.Console) == true).ToList();
        // Client streaming (the license upload) cannot be transcoded: front ends use gRPC-Web or a
        // gRPC client for that one method.
        Assert.Equal(["FaceId.Onboarding/SubmitApplication"], console.Where(r => r.Method.IsClientStreaming).Select(r => r.ToString()));
        // Server streaming (the license download, the exports) would be transcoded into one JSON array:
        // each is served raw by a hand-written route instead (not in the OpenAPI document; tested in
        // LicenseRouteTests and ExportRouteTests), and carries no google.api.http annotation.
        Assert.Equal(["FaceId.Billing/ExportBills", "FaceId.Billing/ExportStatistics", "FaceId.Onboarding/ReadLicenseDocument"],
            console.Where(r => r.Method.IsServerStreaming).Select(r => r.ToString()).Order());
        Assert.All(console.Where(r => r.Method.IsServerStreaming), r => Assert.True(r.Http is null, $"{r} is server streaming: a raw route, not transcoded"));
        Assert.All(console.Where(r => !r.Method.IsClientStreaming && !r.Method.IsServerStreaming), r => Assert.True(r.Http is not null, $"{r} is console-facing but has no google.api.http route"));
        Assert.All(All.Where(r => r.Http is not null), r => Assert.True(r.Allow?.Roles.Contains(Roles.Console) == true, $"{r} is on HTTP but no console caller may call it"));
    }

    [Theory]
    [InlineData("FaceId.Onboarding")]
    [InlineData("FaceId.Packages")]
    [InlineData("FaceId.Metering")]
    [InlineData("FaceId.Billing")]
    [InlineData("FaceId.Refund")]
    public async Task Each_service_serves_an_OpenAPI_document_of_its_routes(string service)
    {
        var answer = await platform.SendAsync(service, HttpMethod.Get, "/openapi/v1.json", token: "");
        Assert.True(answer.Status == 200, answer.ToString());
        var document = Assert.IsType<JsonObject>(answer.Json);
        Assert.StartsWith("3.", (string?)document["openapi"]);
        Assert.Equal("bearer", (string?)document["components"]!["securitySchemes"]!["bearer"]!["scheme"]);

        // Routes compared without parameter names (the document may spell them in camelCase).
        var expected = All.Where(r => r.Service == service && r.Http is not null)
            .Select(r => $"{r.Route.Verb} {Unnamed(r.Route.Path)}").Order().ToList();
        var documented = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(op => $"{op.Key} {Unnamed(p.Key)}")).Order().ToList();
        Assert.Equal(expected, documented);
        Assert.All(document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject()), op =>
            Assert.True(op.Value!["responses"]?["200"] is not null, $"{op.Key}: no 200 response documented"));
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Parameter();

    private static string Unnamed(string path) => Parameter().Replace(path, "{}");

    [Fact]
    public async Task Without_a_valid_token_every_route_is_401_UNAUTHENTICATED()
    {
        var account = await platform.AccountAsync();
        foreach (var c in ConsoleMethods.All)
        {
            var request = c.Happy(account);
            foreach (var token in new[] { "", "not.a.jwt", new TokenMinter(TokenMinter.NewKey()).Mint("forger", Roles.All, account.AccountId) })
            {
                var answer = await platform.SendAsync(c.Service, request.Method, request.Path, token, request.Body?.DeepClone());
                ProblemAssert.Is(answer, 401, "UNAUTHENTICATED", null, $"{c} with token '{token}'");
            }
        }
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_400_INVALID_ARGUMENT_and_changes_nothing()
    {
        var account = await platform.AccountAsync();
        var before = await platform.SnapshotAsync();
        foreach (var c in ConsoleMethods.All.Where(c => c.Happy(account).Body is not null))
        {
            var request = c.Happy(account);
            var answer = await platform.SendRawAsync(c.Service, request.Method, request.Path, account.Token, "{\"idempotencyKey\": ");
            ProblemAssert.Is(answer, 400, "INVALID_ARGUMENT", null, c.ToString());
        }
        Assert.Equal(before, await platform.SnapshotAsync());
    }

    [Fact]
    public async Task Over_the_per_caller_limit_an_HTTP_caller_gets_429_RESOURCE_EXHAUSTED()
    {
        var account = await platform.AccountAsync();
        // A caller of its own (buckets are per token subject), on a rate-limited method.
        var token = TestAuth.Minter.Mint(TestIds.New("burst"), [Roles.Console], account.AccountId);
        var statistics = ConsoleMethods.All.Single(c => c.Rpc == "GetStatistics").Happy(account);
        var answers = new List<HttpAnswer>();
        for (var i = 0; i < HttpPlatform.PermitsPerMinute + 5; i++)
            answers.Add(await platform.SendAsync("FaceId.Billing", statistics.Method, statistics.Path, token));
        Assert.All(answers.Take(HttpPlatform.PermitsPerMinute - 5), a => Assert.Equal(200, a.Status));
        var refused = answers.Last();
        ProblemAssert.Is(refused, 429, "RESOURCE_EXHAUSTED", null, "the call over the limit");
    }
}
