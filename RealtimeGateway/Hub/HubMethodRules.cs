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
}
