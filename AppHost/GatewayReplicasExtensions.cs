namespace Aspire.Hosting;

public static class GatewayReplicasExtensions
{
    public const string Setting = "Gateway:Replicas";
    public const int Default = 3;
    public const int Max = 16;

    /// <summary>How many gateway replicas to run: Gateway:Replicas, 1-16, default 3.</summary>
    public static int GatewayReplicas(this IDistributedApplicationBuilder builder) => Parse(builder.Configuration[Setting]);

    public static int Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Default;
        }

        return int.TryParse(value.Trim(), out var replicas) && replicas is >= 1 and <= Max
            ? replicas
            : throw new AppHostConfigurationException($"{Setting} must be a whole number from 1 to {Max}; it is '{value}'.");
    }
}
