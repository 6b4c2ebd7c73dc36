namespace RealtimeDemo.ServerShared;

/// <summary>Work a replica does when asked to drain (POST /ops/drain), before its host stops.</summary>
public interface IDrainStep
{
    Task BeforeStopAsync(CancellationToken cancellationToken);
}
