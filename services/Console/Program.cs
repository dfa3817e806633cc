using System.Net;
using FaceId.Console;
using FaceId.Console.Components;
using FaceId.Console.Platform;
using FaceId.Console.SignIn;
using MudBlazor.Services;

var builder = WebApplication.CreateBuilder(args);
// MudBlazor's CSS and JS are served from the package (_content/MudBlazor/) also when run from a build output.
builder.WebHost.UseStaticWebAssets();
var address = IPAddress.Parse(builder.Configuration["Ports:Address"] ?? "127.0.0.1");
var port = builder.Configuration.GetValue<int?>("Ports:Http") ?? ConsoleDefaults.Port;
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));

builder.Services.AddConsoleSignIn(builder.Configuration);
builder.Services.AddPlatformClients(builder.Configuration);
builder.Services.AddConsoleLocalization();
builder.Services.AddMudServices();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddHealthChecks();
builder.Services.AddSingleton(TimeProvider.System);

var app = builder.Build();
app.UseConsoleLocalization();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.MapStaticAssets().AllowAnonymous();
app.MapHealthChecks("/healthz").AllowAnonymous();
app.MapSignIn();
app.MapConsoleCulture();
app.MapLicenseDocument();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.Logger.LogInformation("FaceID console listening on http://{Address}:{Port}", address, port);
app.Run();
