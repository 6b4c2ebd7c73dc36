using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>Checks every hub argument against the rule its parameter declares, before the method runs.</summary>
internal sealed class ArgumentRulesFilter(IOptions<ChatOptions> options) : IHubFilter
{
    // Lengths are .NET's and JavaScript's string lengths, which a person counting characters would not guess.
    private const string UnitsCounted = "characters are counted in UTF-16 code units, as JavaScript's length counts them (an emoji is 2)";

    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var arguments = HubMethodRules.For(context.HubMethod).Arguments;
        for (var i = 0; i < arguments.Count; i++)
        {
            if (Check(arguments[i].Rule, context.HubMethodArguments[i]) is { } problem)
            {
                throw new ChatHubError(ChatErrorCodes.InvalidArgument, $"{context.HubMethodName}: '{arguments[i].Name}' {problem}");
            }
        }

        return next(context);
    }

    /// <summary>Null when the value follows the rule, else what the rule asks for.</summary>
    private string? Check(ArgumentRuleAttribute? rule, object? value)
    {
        var limits = options.Value.Limits;
        return rule switch
        {
            RoomNameAttribute when !ChatNames.IsValidRoom(value as string) => $"must be {ChatNames.RoomRule}.",
            UserNameAttribute when !ChatNames.IsValidUser(value as string) => $"must be {ChatNames.UserRule}.",
            MessageTextAttribute when value is not string text || string.IsNullOrWhiteSpace(text) || text.Length > limits.MaxTextLength =>
                $"must be 1-{limits.MaxTextLength} characters and not only whitespace (Chat:Limits:MaxTextLength); {UnitsCounted}.",
            MessageTextAttribute when !ChatNames.IsVisibleText((string)value!) => $"must be {ChatNames.TextRule}.",
            ClientMessageIdAttribute when value is not string id || string.IsNullOrWhiteSpace(id) || id.Length > ChatNames.MaxClientMessageIdLength
                    || id.Any(char.IsControl) =>
                $"must be 1-{ChatNames.MaxClientMessageIdLength} characters, not only whitespace and without control characters, chosen by the client once per message; {UnitsCounted}.",
            // An empty id is refused too: taken for null, a client's unset cursor would read the history from its start.
            MessageIdOrStartAttribute when value is string id && !MessageStore.IsMessageId(id) =>
                "must be a message id the server returned (like 1764000000000-0), or null to start from the oldest kept message.",
            MessageIdAttribute when !MessageStore.IsMessageId(value as string) =>
                "must be a message id the server returned (like 1764000000000-0).",
            PageSizeAttribute when value is not int limit || limit < 1 || limit > limits.MaxPageSize =>
                $"must be 1-{limits.MaxPageSize} (Chat:Limits:MaxPageSize).",
            _ => null,
        };
    }
}
