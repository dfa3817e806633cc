using FaceId.Billing;
using FaceId.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(BillingHost.AppId);

var app = builder.Build();
app.MapServiceDefaults();
app.MapBillingService();
return await app.RunServiceAsync();
