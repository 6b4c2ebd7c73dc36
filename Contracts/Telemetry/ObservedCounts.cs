using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace RealtimeDemo.Contracts.Telemetry;

/// <summary>
/// A count the dashboard lists from a process's start: observed rather than added to, with a 0 for each value of its
/// first attribute known up front (null: the series with no attribute). A counter that is only added to is not
/// exported until its first event, so a healthy process showed no such counter at all, which reads as telemetry
/// missing, not as nothing happened. The series are bounded by the first attribute's known values (operations,
/// configured room templates, gap reasons) times the second's (exception type names, a set the process's code fixes),
/// never by traffic.
/// </summary>
public sealed class ObservedCounts
{
    private readonly string _firstTag;
    private readonly string? _secondTag;
    private readonly ConcurrentDictionary<(string? First, string? Second), StrongBox<long>> _counts = new();

    public ObservedCounts(string firstTag, string? secondTag, IEnumerable<string?> knownFirstValues)
    {
        _firstTag = firstTag;
        _secondTag = secondTag;
        foreach (var value in knownFirstValues)
        {
            _counts.TryAdd((value, null), new StrongBox<long>());
        }
    }

    public void Add(string? first, string? second = null, long amount = 1) =>
        Interlocked.Add(ref _counts.GetOrAdd((first, second), static _ => new StrongBox<long>()).Value, amount);

    public IEnumerable<Measurement<long>> Observe()
    {
        foreach (var ((first, second), count) in _counts)
        {
            var value = Interlocked.Read(ref count.Value);
            var tags = new List<KeyValuePair<string, object?>>(2);
            if (first is not null)
            {
                tags.Add(new(_firstTag, first));
            }

            if (second is not null && _secondTag is not null)
            {
                tags.Add(new(_secondTag, second));
            }

            yield return new Measurement<long>(value, tags);
        }
    }
}
