namespace RealtimeDemo.AppHost.Scaling;

#pragma warning disable ASPIREINTERACTION001 // experimental: the command's argument, which the dashboard asks for in a dialog

public static class LiveReplicasExtensions
{
    public const string ScaleCommand = "scale";
    public const string ReplicasArgument = "replicas";

    /// <summary>
    /// Declares {service}:MaxReplicas instances and runs {service}:Replicas of them; the `scale` command (on every
    /// instance and on the "{name}-replicas" row) starts or stops instances while the app runs, asking each instance
    /// it stops to drain first (POST /ops/drain with <paramref name="opsAccessKey"/>, which the project is given as
    /// Ops:AccessKey). In publish mode the project simply has {service}:Replicas replicas.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithLiveReplicas(this IResourceBuilder<ProjectResource> project, string service, int defaultCount,
        IResourceBuilder<ParameterResource> opsAccessKey, int defaultMax = 8)
    {
        var builder = project.ApplicationBuilder;
        var (initial, max) = builder.ReplicaRange(service, defaultCount, defaultMax);
        project.WithEnvironment("Ops__AccessKey", opsAccessKey);
        if (!builder.ExecutionContext.IsRunMode)
        {
            return project.WithReplicas(initial).WithAnnotation(new LiveReplicasAnnotation(null, initial, max));
        }

        var replicaSet = new ReplicaSetResource($"{project.Resource.Name}-replicas", project.Resource);
        var scaler = new ReplicaScaler(replicaSet, initial, max, opsAccessKey.Resource);
        builder.AddResource(replicaSet)
            .WithInitialState(new CustomResourceSnapshot { ResourceType = "Replicas", Properties = [], State = KnownResourceStates.Starting })
            .WithCommand(ScaleCommand, "Scale", context => RunScaleCommand(scaler, context), ScaleCommandOptions(service, max, highlighted: true));
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            scaler.Start(e.Services);
            return Task.CompletedTask;
        });

        // The proxy's address is the set's, shown on its row, not on every instance's: the dashboard names as a span's
        // peer the first resource that lists the span's server address, and with each instance listing the proxy's it
        // named any of them as the gateway a frontend's request went to, never-started ones too.
        return project.WithReplicas(max).WithExplicitStart()
            .WithUrls(context => context.Urls.Clear())
            .WithAnnotation(new LiveReplicasAnnotation(replicaSet, initial, max))
            .WithCommand(ScaleCommand, "Scale", context => RunScaleCommand(scaler, context), ScaleCommandOptions(service, max, highlighted: false));
    }

    /// <summary>
    /// Waits until the first replicas of <paramref name="project"/> answer: WaitFor on a live-scaled project would
    /// wait for its stopped instances too, and never end.
    /// </summary>
    public static IResourceBuilder<T> WaitForReplicas<T>(this IResourceBuilder<T> dependent, IResourceBuilder<ProjectResource> project)
        where T : IResourceWithWaitSupport =>
        project.Resource.TryGetLastAnnotation<LiveReplicasAnnotation>(out var live) && live.ReplicaSet is { } replicaSet
            ? dependent.WaitFor(dependent.ApplicationBuilder.CreateResourceBuilder(replicaSet))
            : dependent.WaitFor(project);

    // A button on the replicas row; in each instance's menu.
    private static CommandOptions ScaleCommandOptions(string service, int max, bool highlighted) => new()
    {
        IsHighlighted = highlighted,
        Description = $"Start or stop instances until this many run (1 to {max}, {service}:MaxReplicas). Stopped instances drain first: their clients reconnect to the others.",
        IconName = "ArrowAutofitWidth",
        Arguments =
        [
            new InteractionInput
            {
                Name = ReplicasArgument,
                Label = "Replicas",
                Description = $"How many instances should run, from 1 to {max}.",
                InputType = InputType.Number,
                Required = true,
                Placeholder = $"1–{max}",
            },
        ],
        ValidateArguments = context =>
        {
            if (context.Inputs.TryGetByName(ReplicasArgument, out var input) && ParseReplicas(input.Value, max) is null)
            {
                context.AddValidationError(input, $"Enter a whole number from 1 to {max}.");
            }

            return Task.CompletedTask;
        },
    };

    private static Task<ExecuteCommandResult> RunScaleCommand(ReplicaScaler scaler, ExecuteCommandContext context)
    {
        var value = context.Arguments is { } arguments && arguments.TryGetByName(ReplicasArgument, out var input) ? input.Value : null;
        return ParseReplicas(value, ReplicasExtensions.Max) is { } replicas
            ? scaler.ScaleAsync(replicas, context.CancellationToken)
            : Task.FromResult(CommandResults.Failure("Say how many replicas should run: a whole number."));
    }

    private static int? ParseReplicas(string? value, int max) =>
        int.TryParse(value?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var replicas) && replicas >= 1 && replicas <= max
            ? replicas
            : null;
}
