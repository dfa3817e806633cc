using FaceId.Onboarding.Application;
using FaceId.Onboarding.Grpc;

namespace FaceId.Onboarding;

/// <summary>Registration of the Onboarding service: a marker type for test hosts, too.</summary>
public static class OnboardingHost
{
    public const string AppId = "onboarding";

    public static IServiceCollection AddOnboardingService(this IServiceCollection services)
    {
        services.AddOptions<DocumentStoreOptions>().BindConfiguration(DocumentStoreOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DocumentStore>();
        services.AddSingleton<AccountStore>();
        services.AddSingleton<AccountsApplication>();
        services.AddSingleton<ApplicationsApplication>();
        return services;
    }

    public static WebApplication MapOnboardingService(this WebApplication app)
    {
        app.MapGrpcService<OnboardingGrpcService>();
        return app;
    }
}
