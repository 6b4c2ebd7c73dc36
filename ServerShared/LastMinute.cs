namespace RealtimeDemo.ServerShared;

/// <summary>
/// A process's last minute of a per-second figure, oldest first, published with its ops stats: the ops view draws
/// the same minute for every viewer, one who has just opened the page included. One writer (the stats loop).
/// </summary>
public sealed class LastMinute
{
    public const int Seconds = 60;

    private readonly Queue<double> _values = new(Seconds + 1);

    /// <summary>Adds this second's value (to one decimal, as the view shows it) and returns the minute so far.</summary>
    public IReadOnlyList<double> Add(double value)
    {
        _values.Enqueue(Math.Round(value, 1));
        if (_values.Count > Seconds)
        {
            _values.Dequeue();
        }

        return [.. _values];
    }
}
