using FaceId.Refund;
using FaceId.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(RefundHost.AppId);
builder.Services.AddRefundService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults();
app.MapRefundService();
return await app.RunServiceAsync();
