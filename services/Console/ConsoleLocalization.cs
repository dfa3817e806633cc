using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace FaceId.Console;

/// <summary>The console's texts: Resources/Text.resx (English) and Resources/Text.zh-CN.resx (Simplified Chinese).</summary>
public sealed class Text;

/// <summary>Simplified Chinese by default, English on request; the choice is kept in the culture cookie.</summary>
public static class ConsoleLocalization
{
    public const string Chinese = "zh-CN";
    public const string English = "en";
    public static readonly string[] Cultures = [Chinese, English];

    public static IServiceCollection AddConsoleLocalization(this IServiceCollection services)
    {
        services.AddLocalization(options => options.ResourcesPath = "Resources");
        services.Configure<RequestLocalizationOptions>(options =>
        {
            options.SetDefaultCulture(Chinese).AddSupportedCultures(Cultures).AddSupportedUICultures(Cultures);
            options.RequestCultureProviders = [new CookieRequestCultureProvider()];
        });
        return services;
    }

    public static WebApplication UseConsoleLocalization(this WebApplication app)
    {
        app.UseRequestLocalization();
        return app;
    }

    /// <summary>GET /culture/{name}?returnUrl=/local/path: stores the language in the culture cookie and goes back.</summary>
    public static WebApplication MapConsoleCulture(this WebApplication app)
    {
        app.MapGet("/culture/{name}", (string name, string? returnUrl, HttpContext http) =>
        {
            if (!Cultures.Contains(name)) return Results.NotFound();
            http.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(CultureInfo.GetCultureInfo(name))),
                new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, MaxAge = TimeSpan.FromDays(365) });
            return Results.LocalRedirect(returnUrl is { Length: > 0 } && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") ? returnUrl : "/");
        }).AllowAnonymous();
        return app;
    }
}
