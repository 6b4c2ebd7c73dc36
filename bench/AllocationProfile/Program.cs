using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Summarises a trace taken with
//   dotnet-trace collect -p <pid> --providers Microsoft-Windows-DotNETRuntime:0x1:5 --duration 00:00:00:10
// (GC events, with an allocation sample every ~100 KB): every pause split into suspension, marking from the older
// generation (the card table) and the rest, then the sampled allocations by type, by method (inclusive) and by stack.
// Usage: dotnet run --project bench/AllocationProfile -c Release -- <file.nettrace> [frames per stack, default 6]
if (args.Length is < 1 or > 2 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: AllocationProfile <file.nettrace> [frames per stack]");
    return 2;
}

var framesPerStack = args.Length > 1 && int.TryParse(args[1], out var frames) && frames > 0 ? frames : 6;
Console.Error.WriteLine($"reading {args[0]} (symbols from the trace's rundown; a minute for a large trace)");
using var trace = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));

var pauses = new List<Pause>();
Pause? current = null;
var byType = new Dictionary<string, long>();
var byMethod = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
long sampled = 0;
foreach (var data in trace.Events)
{
    switch (data.EventName)
    {
        case "GC/SuspendEEStart":
            current = new Pause { SuspendStart = data.TimeStampRelativeMSec };
            break;
        case "GC/SuspendEEStop" when current is not null:
            current.GcStart = data.TimeStampRelativeMSec;
            break;
        case "GC/Start" when current is not null:
            current.Generation = Convert.ToInt32(data.PayloadByName("Depth"));
            break;
        case "GC/MarkWithType" when current is not null:
            // Type 3: roots found in older generations through the card table.
            if (Convert.ToInt32(data.PayloadByName("Type")) == 3)
            {
                current.OlderMarkEnd = data.TimeStampRelativeMSec;
                current.OlderPromoted = Convert.ToInt64(data.PayloadByName("Promoted"));
            }
            else if (current.OlderMarkEnd == 0)
            {
                current.OlderMarkStart = data.TimeStampRelativeMSec;
            }

            break;
        case "GC/RestartEEStop" when current is not null:
            current.End = data.TimeStampRelativeMSec;
            pauses.Add(current);
            current = null;
            break;
    }

    if (data is not GCAllocationTickTraceData tick)
    {
        continue;
    }

    var bytes = tick.AllocationAmount64;
    sampled += bytes;
    Add(byType, tick.TypeName, bytes);
    var stack = new List<string>();
    var seen = new HashSet<string>();
    for (var frame = data.CallStack(); frame is not null; frame = frame.Caller)
    {
        var method = frame.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(method))
        {
            continue;
        }

        if (seen.Add(method))
        {
            Add(byMethod, method, bytes);
        }

        if (stack.Count < framesPerStack)
        {
            stack.Add(Shorten(method));
        }
    }

    Add(byStack, $"{tick.TypeName} <= {string.Join(" < ", stack)}", bytes);
}

Console.WriteLine($"{trace.SessionDuration.TotalSeconds:F1} s traced, {pauses.Count} pauses");
foreach (var pause in pauses)
{
    Console.WriteLine($"  gen{pause.Generation}: {pause.End - pause.SuspendStart,6:F2} ms paused, suspending {pause.GcStart - pause.SuspendStart:F2} ms, " +
        $"marking from older generations {(pause.OlderMarkEnd > 0 ? pause.OlderMarkEnd - pause.OlderMarkStart : 0):F2} ms ({pause.OlderPromoted / 1024} KB promoted through them)");
}

if (sampled == 0)
{
    Console.WriteLine("no allocation samples: trace with the GC keyword at level 5 (Microsoft-Windows-DotNETRuntime:0x1:5)");
    return 0;
}

Print($"allocations sampled: {sampled / 1e6:F1} MB, by type", byType, 40);
Print("by method, inclusive", byMethod, 100);
Print("by stack", byStack, 50);
return 0;

void Print(string title, Dictionary<string, long> totals, int top)
{
    Console.WriteLine($"== {title}");
    foreach (var (name, bytes) in totals.OrderByDescending(pair => pair.Value).Take(top))
    {
        Console.WriteLine($"{100.0 * bytes / sampled,6:F1}%  {Shorten(name, 200)}");
    }
}

static void Add(Dictionary<string, long> totals, string key, long bytes) => totals[key] = totals.GetValueOrDefault(key) + bytes;

static string Shorten(string text, int length = 110) => text.Length > length ? text[..length] : text;

internal sealed class Pause
{
    public double SuspendStart { get; set; }
    public double GcStart { get; set; }
    public double OlderMarkStart { get; set; }
    public double OlderMarkEnd { get; set; }
    public long OlderPromoted { get; set; }
    public double End { get; set; }
    public int Generation { get; set; } = -1;
}
