using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace RealtimeDemo.RealtimeGateway.Telemetry;

/// <summary>
/// A failure counter the dashboard lists from a replica's start: observed rather than added to, with a 0 for each
/// value of its first attribute known up front. A counter that is only added to is not exported until its first
/// failure, so a healthy replica showed no such counter at all, which reads as telemetry missing, not as nothing
/// failed. The series are bounded by the first attribute's known values (operations, configured room templates) times
/// the second's (exception type names, a set the process's code fixes), never by traffic.
/// </summary>
internal sealed class FailureCounts
{
    private readonly string _firstTag;
    private readonly string? _secondTag;
    private readonly ConcurrentDictionary<(string First, string? Second), StrongBox<long>> _counts = new();

    public FailureCounts(string firstTag, string? secondTag, IEnumerable<string> knownFirstValues)
    {
        _firstTag = firstTag;
        _secondTag = secondTag;
        foreach (var value in knownFirstValues)
        {
            _counts.TryAdd((value, null), new StrongBox<long>());
        }
    }

    public void Add(string first, string? second = null) =>
        Interlocked.Increment(ref _counts.GetOrAdd((first, second), static _ => new StrongBox<long>()).Value);

    public IEnumerable<Measurement<long>> Observe()
    {
        foreach (var ((first, second), count) in _counts)
        {
            var value = Interlocked.Read(ref count.Value);
            yield return second is null || _secondTag is null
                ? new Measurement<long>(value, new KeyValuePair<string, object?>(_firstTag, first))
                : new Measurement<long>(value, new KeyValuePair<string, object?>(_firstTag, first), new KeyValuePair<string, object?>(_secondTag, second));
        }
    }
}
