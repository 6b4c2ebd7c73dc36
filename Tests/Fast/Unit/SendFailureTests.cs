using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>
/// Which failed sends a .NET caller may make again as a new message (Edit) and which only under the same
/// clientMessageId (Retry): a send that may have been stored and is sent again as new is stored twice.
/// </summary>
public sealed class SendFailureTests
{
    public static TheoryData<Exception, bool> Failures => new()
    {
        { new HubException("Join room 'lobby' before sending to it."), false },
        { new HubException("SendMessage: 'text' must be 1-4000 characters and not only whitespace (Chat:Limits:MaxTextLength)."), false },
        { new CallNotAnsweredException(ChatHubMethods.SendMessage, mayHaveBeenDone: false, "Not connected to the chat (disconnected): …"), false },
        { new CallNotAnsweredException(ChatHubMethods.SendMessage, mayHaveBeenDone: true, "The connection broke before the chat answered SendMessage, …"), true },
        { new HubException(HubErrorFilter.StorageUnavailable + " Resending with the same clientMessageId never stores a message twice."), true },
        { new HubException($"{ChatHubMethods.ServerFailure} 'SendMessage' (error id 7f3a9c2e1b)."), true },
        { new InvalidDataException("a failure of SignalR's own that the client did not map"), true },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_send_that_may_have_been_stored_is_told_from_one_that_was_not(Exception failure, bool mayHaveBeenStored) =>
        Assert.Equal(mayHaveBeenStored, ChatClient.MayHaveBeenStored(failure));
}
