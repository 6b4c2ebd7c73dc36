namespace RealtimeDemo.AppHost.Scaling;

/// <summary>
/// A project's running replicas as one dashboard row: Running once the first replicas answer (what others wait for,
/// since waiting for the project itself would wait for its stopped instances too), with the count and the `scale`
/// command. The CLI can address it by name, where the project's own instances carry generated suffixes.
/// </summary>
public sealed class ReplicaSetResource(string name, ProjectResource project) : Resource(name)
{
    public ProjectResource Project { get; } = project;
}

/// <summary>On a live-scaled project: its replica set (null in publish mode) and how many instances it starts with and may run.</summary>
public sealed record LiveReplicasAnnotation(ReplicaSetResource? ReplicaSet, int Initial, int Max) : IResourceAnnotation;
