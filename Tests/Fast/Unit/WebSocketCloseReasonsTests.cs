using System.Text;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.Tests.Fast.Unit;

public sealed class WebSocketCloseReasonsTests
{
    public static TheoryData<string, byte[]> FramesLeftAlone => new()
    {
        { "a normal close", [0x88, 0x02, 0x03, 0xE8] },
        { "SignalR's close after a server error", [0x88, 0x02, 0x03, 0xF3] },
        { "a protocol-error close that has a reason", [0x88, 0x04, 0x03, 0xEA, 0x68, 0x69] },
        { "a text frame of four bytes", [0x81, 0x02, 0x03, 0xEA] },
        { "a close without a status", [0x88, 0x00] },
    };

    [Theory]
    [MemberData(nameof(FramesLeftAlone))]
    public void Every_other_frame_the_server_writes_passes_unchanged(string @case, byte[] frame)
    {
        _ = @case;
        Assert.Null(WebSocketCloseReasons.Replacement(frame));
    }

    [Theory]
    [InlineData(0xEA, 1002, WebSocketCloseReasons.ProtocolErrorReason)]
    [InlineData(0xEF, 1007, WebSocketCloseReasons.InvalidPayloadReason)]
    public void The_runtimes_reasonless_protocol_and_UTF8_closes_get_our_reason(byte low, int status, string reason)
    {
        var close = WebSocketCloseReasons.Replacement([0x88, 0x02, 0x03, low]);

        Assert.NotNull(close);
        Assert.Equal(0x88, close[0]);
        Assert.Equal(close.Length - 2, close[1]); // one control frame, payload under 126 bytes
        Assert.Equal(status, (close[2] << 8) | close[3]);
        Assert.Equal(reason, Encoding.UTF8.GetString(close.AsSpan(4)));
    }
}
