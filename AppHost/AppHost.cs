using System.Reflection;
using RealtimeDemo.AppHost;
using RealtimeDemo.AppHost.Redis;
using RealtimeDemo.AppHost.Scaling;

var builder = DistributedApplication.CreateBuilder(args);
try
{
    // Infrastructure: an external server, a container, or a local redis-server, chosen once (see README).
    var redis = builder.AddChatRedis("redis");
    var tokenSigningKey = builder.AddGeneratedSecret("chat-token-signing-key");
    var opsAccessKey = builder.AddGeneratedSecret("ops-access-key");

    // Services, in dependency order.
    var gateway = builder.AddProject<Projects.RealtimeGateway>("realtime-gateway")
        .WithLiveReplicas("Gateway", defaultCount: 3, opsAccessKey)
        .WithReference(redis).WaitFor(redis)
        .WithEnvironment("Auth__SigningKey", tokenSigningKey)
        .WithHttpHealthCheck("/health");

    builder.AddProject<Projects.ChatWorker>("chat-worker")
        .WithLiveReplicas("Worker", defaultCount: 1, opsAccessKey)
        .WithReference(redis).WaitFor(redis)
        .WithHttpHealthCheck("/health");

    // The frontend, the only browser origin the gateway accepts.
    var frontend = builder.AddProject<Projects.WebFrontend>("webfrontend")
        .WithExternalHttpEndpoints()
        .WithPageLinks()
        .WithDashboardLinks()
        .WithBrowserTelemetry()
        .WithReference(gateway).WaitForReplicas(gateway)
        .WithEnvironment("Ops__AccessKey", opsAccessKey)
        .WithEnvironment("Frontend__OpsView", builder.ExecutionContext.IsRunMode ? "true" : "false") // a local run: whoever opens the frontend is its operator
        .WithHttpHealthCheck("/health");
    gateway.WithEnvironment("Chat__AllowedOrigins__0", frontend.GetEndpoint("http"));

    builder.WithoutDeveloperCertificates().Build().Run();
}
// A configuration mistake deserves its one line, not a stack trace. (A test that runs this AppHost in its own
// process, whose entry assembly is then the test's, sees the exception itself.)
catch (AppHostConfigurationException error) when (Assembly.GetEntryAssembly() == typeof(AppHostConfigurationException).Assembly)
{
    Console.Error.WriteLine($"error: {error.Message}");
    return 1;
}

return 0;
