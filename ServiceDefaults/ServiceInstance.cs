namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Which process this is among a resource's replicas. Aspire gives every replica its own
/// service.instance.id (in OTEL_RESOURCE_ATTRIBUTES), the same id the dashboard shows.
/// </summary>
public sealed record ServiceInstance(string Id)
{
    public static ServiceInstance FromEnvironment() =>
        new(FromResourceAttributes(Environment.GetEnvironmentVariable("OTEL_RESOURCE_ATTRIBUTES"))
            ?? $"{Environment.MachineName}-{Environment.ProcessId}");

    public static string? FromResourceAttributes(string? attributes)
    {
        foreach (var pair in (attributes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts is ["service.instance.id", { Length: > 0 } id])
            {
                return id;
            }
        }

        return null;
    }
}
