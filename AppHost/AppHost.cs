var builder = DistributedApplication.CreateBuilder(args);

// Infrastructure: an external server, a container, or a local redis-server, chosen once (see README).
var redis = builder.AddChatRedis("redis");

// Services, in dependency order.
var gateway = builder.AddProject<Projects.RealtimeGateway>("realtime-gateway")
    .WithReplicas(builder.GatewayReplicas())
    .WithReference(redis).WaitFor(redis)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.ChatWorker>("chat-worker")
    .WithReference(redis).WaitFor(redis)
    .WithHttpHealthCheck("/health");

// The frontend.
builder.AddProject<Projects.WebFrontend>("webfrontend")
    .WithExternalHttpEndpoints()
    .WithReference(gateway).WaitFor(gateway)
    .WithHttpHealthCheck("/health");

builder.WithoutDeveloperCertificates().Build().Run();
