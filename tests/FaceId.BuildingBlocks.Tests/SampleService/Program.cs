using FaceId.Contracts.Events.V1;
using FaceId.SampleService;
using FaceId.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("sample-service")
    .AddSubscription<ServiceActivated, ActivationRecorder>();

var app = builder.Build();
app.MapGrpcService<ProbeService>();
app.MapServiceDefaults();
return await app.RunServiceAsync();

namespace FaceId.SampleService
{
    /// <summary>Marker for WebApplicationFactory&lt;SampleServiceEntryPoint&gt; (any type of this assembly works).</summary>
    public sealed class SampleServiceEntryPoint;
}
