using FaceId.Metering;
using FaceId.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(MeteringHost.AppId);
builder.Services.AddMeteringService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults();
app.MapMeteringService();
return await app.RunServiceAsync();
