using System.Collections.Concurrent;
using System.Reflection;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.RealtimeGateway.Hub;

/// <summary>What a hub method's attributes declare (see Contracts/ArgumentRules.cs), read once per method.</summary>
internal sealed record HubMethodRules(bool CountsAsMessage, IReadOnlyList<(string Name, ArgumentRuleAttribute? Rule)> Arguments)
{
    private static readonly ConcurrentDictionary<MethodInfo, HubMethodRules> Cache = new();

    public static HubMethodRules For(MethodInfo method) => Cache.GetOrAdd(method, static m => new(
        m.IsDefined(typeof(CountsAsMessageAttribute)),
        [.. m.GetParameters().Select(p => (p.Name!, p.GetCustomAttribute<ArgumentRuleAttribute>()))]));

    /// <summary>The room this call is about, when it has a room argument that is a valid room name.</summary>
    public string? Room(IReadOnlyList<object?> arguments)
    {
        for (var i = 0; i < Arguments.Count && i < arguments.Count; i++)
        {
            if (Arguments[i].Rule is RoomNameAttribute && arguments[i] is string room && ChatNames.IsValidRoom(room))
            {
                return room;
            }
        }

        return null;
    }
}
