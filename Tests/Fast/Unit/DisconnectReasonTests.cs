using System.Net.WebSockets;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.Tests.Fast.Unit;

public sealed class DisconnectReasonTests
{
    public static TheoryData<Exception?, bool, bool, string> Cases => new()
    {
        { null, false, false, "client_closed" },
        { new OperationCanceledException("Client hasn't sent a message/ping within the configured ClientTimeoutInterval."), false, false, "timeout" },
        { new WebSocketException(WebSocketError.ConnectionClosedPrematurely), false, false, "transport_error" },
        // What the runtime's WebSocket throws when a client's frame breaks the protocol or a text frame is not UTF-8.
        { new WebSocketException(WebSocketError.Faulted, "The WebSocket received a frame with an unknown opcode: '0x3'."), false, false, "protocol_error" },
        { new IOException("Connection reset by peer"), false, false, "transport_error" },
        { new InvalidDataException("The maximum message size of 32768B was exceeded."), false, false, "limit" },
        { new InvalidDataException("Error reading JSON."), false, false, "protocol_error" },
        { new IOException("reset"), true, false, "server_shutdown" },
        { null, false, true, "token_expired" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_disconnect_is_classified_by_what_the_server_knows(Exception? exception, bool serverStopping, bool tokenExpired, string reason)
    {
        Assert.Equal(reason, DisconnectReasons.Classify(null, exception, serverStopping, tokenExpired));
    }

    [Fact]
    public void A_reason_noted_by_the_code_that_closed_the_connection_wins()
    {
        Assert.Equal("limit", DisconnectReasons.Classify("limit", null, serverStopping: true, tokenExpired: true));
    }
}
