using FaceId.Onboarding;
using FaceId.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(OnboardingHost.AppId).AddOnboardingSubscriptions();
builder.Services.AddOnboardingService();

var app = builder.Build();
app.MapServiceDefaults();
app.MapOnboardingService();
return await app.RunServiceAsync();
