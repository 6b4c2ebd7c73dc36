using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>What a hub method's attributes declare (see Contracts/ArgumentRules.cs), read once per method.</summary>
internal sealed record HubMethodRules(
    bool CountsAsMessage, bool CountsAsRoomChange, bool CountsAsRead, IReadOnlyList<(string Name, ArgumentRuleAttribute? Rule)> Arguments)
{
    private static readonly ConcurrentDictionary<MethodInfo, HubMethodRules> Cache = new();

    public static HubMethodRules For(MethodInfo method) => Cache.GetOrAdd(method, static m => new(
        m.IsDefined(typeof(CountsAsMessageAttribute)),
        m.IsDefined(typeof(CountsAsRoomChangeAttribute)),
        m.IsDefined(typeof(CountsAsReadAttribute)),
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

/// <summary>How each hub method is called, in words, for a client whose arguments did not fit it.</summary>
internal static partial class HubMethodSignatures
{
    private static readonly IReadOnlyDictionary<string, string> Signatures = Read();

    /// <param name="target">The method the client called.</param>
    /// <param name="notText">Whether a string the client sent is not text (an escaped surrogate without its pair, bytes that are not UTF-8).</param>
    public static string Describe(string? target, bool notText = false)
    {
        if (target is not null && Signatures.TryGetValue(target, out var signature))
        {
            var fault = notText ? "the strings sent must be valid Unicode (UTF-8, and an escaped surrogate must come in a pair)" : "the arguments sent do not fit";
            return $"{target}: {fault}; it takes {signature}.";
        }

        // The name is the client's: echo it only when it looks like one.
        var named = target is not null && Identifier().IsMatch(target) ? $" '{target}'" : "";
        return $"The chat hub has no method{named}; it has {string.Join(", ", Signatures.Keys.Order(StringComparer.Ordinal))}.";
    }

    private static Dictionary<string, string> Read()
    {
        var nullability = new NullabilityInfoContext();
        return typeof(ChatHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(method => !method.Name.StartsWith("On", StringComparison.Ordinal))
            .ToDictionary(
                method => method.Name,
                method => $"({string.Join(", ", method.GetParameters().Select(p => $"{p.Name}: {TypeName(p, nullability)}"))})",
                StringComparer.OrdinalIgnoreCase);
    }

    private static string TypeName(ParameterInfo parameter, NullabilityInfoContext nullability) => parameter.ParameterType switch
    {
        var type when type == typeof(string) => nullability.Create(parameter).WriteState == NullabilityState.Nullable ? "string or null" : "string",
        var type when type == typeof(int) => "integer",
        var type => type.Name,
    };

    [GeneratedRegex("^[A-Za-z0-9_]{1,64}$")]
    private static partial Regex Identifier();
}
