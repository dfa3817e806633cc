using FaceId.Billing;
using FaceId.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(BillingHost.AppId).AddBillingSubscriptions();
builder.Services.AddBillingService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults();
app.MapBillingService();
return await app.RunServiceAsync();
