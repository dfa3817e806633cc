using FaceId.Packages;
using FaceId.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(PackagesHost.AppId).AddPackagesSubscriptions();
builder.Services.AddPackagesService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults();
app.MapPackagesService();
return await app.RunServiceAsync();
