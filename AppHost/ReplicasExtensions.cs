namespace RealtimeDemo.AppHost;

public static class ReplicasExtensions
{
    public const int Max = 16;

    /// <summary>How many replicas a service runs: the setting (1-16), or <paramref name="defaultCount"/> when unset.</summary>
    public static int Replicas(this IDistributedApplicationBuilder builder, string setting, int defaultCount) =>
        Parse(setting, builder.Configuration[setting], defaultCount);

    public static int Parse(string setting, string? value, int defaultCount)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return defaultCount;
        }

        return int.TryParse(value.Trim(), out var replicas) && replicas is >= 1 and <= Max
            ? replicas
            : throw new AppHostConfigurationException($"{setting} must be a whole number from 1 to {Max}; it is '{value}'.");
    }

    /// <summary>
    /// How many replicas a service starts with ({service}:Replicas) and how many it may be scaled to while running
    /// ({service}:MaxReplicas, at least the start count; <paramref name="defaultMax"/> or the start count when unset).
    /// </summary>
    public static (int Initial, int Max) ReplicaRange(this IDistributedApplicationBuilder builder, string service, int defaultCount, int defaultMax)
    {
        var initial = builder.Replicas($"{service}:Replicas", defaultCount);
        var max = builder.Replicas($"{service}:MaxReplicas", Math.Max(defaultMax, initial));
        return max >= initial
            ? (initial, max)
            : throw new AppHostConfigurationException($"{service}:MaxReplicas ({max}) must not be below {service}:Replicas ({initial}).");
    }
}
