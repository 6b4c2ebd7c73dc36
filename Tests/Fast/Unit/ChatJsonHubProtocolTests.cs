using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.Tests.Fast.Unit;

public sealed class ChatJsonHubProtocolTests
{
    private readonly ChatJsonHubProtocol _protocol = new(Options.Create(new JsonHubProtocolOptions()), Options.Create(new ChatOptions()));

    public static TheoryData<string, CloseMessage> Closes => new()
    {
        // What SignalR writes after any abort (the drain, a silent or slow client's timeout) and after a client's own close.
        { "a plain close", CloseMessage.Empty },
        { "a close with an error", new CloseMessage("Connection closed with an error. InvalidDataException: Error reading JSON.", allowReconnect: false) },
        { "a close that already allows it", new CloseMessage(null, allowReconnect: true) },
        // A connect that failed for a reason that passes (Redis out of reach) is worth another try.
        { "a failure at connect", new CloseMessage("Connection closed with an error. ChatHubError: The chat storage is unavailable; try again shortly.", allowReconnect: false) },
    };

    [Theory]
    [MemberData(nameof(Closes))]
    public void Every_close_but_a_refusal_at_connect_lets_the_client_reconnect(string what, CloseMessage close)
    {
        var written = Write(close);

        Assert.True(written.TryGetProperty("allowReconnect", out var allow) && allow.GetBoolean(), $"{what} was written as {written}");
    }

    [Fact]
    public void A_connection_refused_by_a_limit_is_closed_for_good_with_the_refusal_alone()
    {
        var written = Write(new CloseMessage(
            "Connection closed with an error. ChatConnectionRefused: Too many connections for this user (at most 5, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.",
            allowReconnect: false));

        Assert.False(written.TryGetProperty("allowReconnect", out var allow) && allow.GetBoolean(), $"written as {written}");
        Assert.Equal("Too many connections for this user (at most 5, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.", written.GetProperty("error").GetString());
    }

    [Fact]
    public void A_close_with_an_error_keeps_the_error_without_the_exception_name()
    {
        var written = Write(new CloseMessage("Connection closed with an error. InvalidDataException: Error reading JSON.", allowReconnect: false));

        Assert.Equal("Connection closed with an error. Error reading JSON.", written.GetProperty("error").GetString());
    }

    [Fact]
    public void Arguments_with_a_lone_surrogate_are_refused_as_not_text_and_each_frame_is_judged_on_its_own()
    {
        // Two frames in one read: the first's room is a number, the second's text holds half a surrogate pair.
        var input = new ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(
            """{"type":1,"invocationId":"1","target":"SendMessage","arguments":[7,"c-1","fine"]}""" + "\u001e" +
            """{"type":1,"invocationId":"2","target":"SendMessage","arguments":["lobby","c-2","half \ud800 a pair"]}""" + "\u001e"));

        Assert.Equal("SendMessage: the arguments sent do not fit; it takes (room: string, clientMessageId: string, text: string).",
            RefusalOf(ref input));
        Assert.Equal("SendMessage: the strings sent must be valid Unicode (UTF-8, and an escaped surrogate must come in a pair); it takes (room: string, clientMessageId: string, text: string).",
            RefusalOf(ref input));
        Assert.True(input.IsEmpty);
    }

    [Fact]
    public void Arguments_holding_bytes_that_are_not_UTF8_are_refused_as_not_text()
    {
        byte[] notUtf8 = [0xC3, 0x28]; // a two-byte sequence's lead, then '('
        var input = new ReadOnlySequence<byte>([
            .. """{"type":1,"invocationId":"1","target":"SendMessage","arguments":["lobby","c-1","caf"""u8, .. notUtf8, .. "\"]}\u001e"u8]);

        Assert.Equal("SendMessage: the strings sent must be valid Unicode (UTF-8, and an escaped surrogate must come in a pair); it takes (room: string, clientMessageId: string, text: string).",
            RefusalOf(ref input));
    }

    [Theory]
    [InlineData("a second message in the same record", "{\"type\":6}{\"type\":6}")]
    [InlineData("text after the message", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetConnectionInfo\",\"arguments\":[]} and more")]
    [InlineData("a stray bracket after the message", "{\"type\":6}]")]
    public void A_record_holding_more_than_one_JSON_value_is_refused_saying_one_message_per_record(string what, string record)
    {
        var input = new ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(record + "\u001e"));

        var error = Assert.Throws<ChatHubError>(() => _protocol.TryParseMessage(ref input, new ThreeStrings(), out _));
        Assert.True(error.Message.StartsWith("A frame held something after its message", StringComparison.Ordinal), $"{what}: {error.Message}");
    }

    [Fact]
    public void Whitespace_around_a_message_is_allowed()
    {
        var input = new ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(" {\"type\":6} \r\n\u001e"));

        Assert.True(_protocol.TryParseMessage(ref input, new ThreeStrings(), out var message));
        Assert.IsType<PingMessage>(message);
    }

    private string RefusalOf(ref ReadOnlySequence<byte> input)
    {
        Assert.True(_protocol.TryParseMessage(ref input, new ThreeStrings(), out var message));
        return Assert.IsType<ChatHubError>(Assert.IsType<InvocationBindingFailureMessage>(message).BindingFailure.SourceException).Message;
    }

    private sealed class ThreeStrings : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => [typeof(string), typeof(string), typeof(string)];

        public Type GetReturnType(string invocationId) => typeof(object);

        public Type GetStreamItemType(string streamId) => typeof(object);
    }

    private JsonElement Write(HubMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        _protocol.WriteMessage(message, output);
        var frame = output.WrittenSpan;
        Assert.Equal(0x1e, frame[^1]);
        return JsonDocument.Parse(frame[..^1].ToArray()).RootElement.Clone();
    }
}
