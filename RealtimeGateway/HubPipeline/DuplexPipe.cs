using System.IO.Pipelines;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>A connection's transport with one side replaced (connection middleware that watches a side).</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
