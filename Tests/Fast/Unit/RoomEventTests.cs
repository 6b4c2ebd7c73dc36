using System.Text;
using System.Text.Json;
using RealtimeDemo.ServerShared;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>What a replica reads off a room's delivery channel, as Redis's Lua (cjson) writes it.</summary>
public sealed class RoomEventTests
{
    [Fact]
    public void A_stored_message_is_read_with_every_field_and_its_escapes()
    {
        var roomEvent = Parse("""
            {"id":"1764500000000-0","room":"lobby","user":"al\/ice","text":"caf\u00e9 \"quoted\"\nline","clientMessageId":"c-1",
             "sequence":42,"epoch":1764400000000,"traceParent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","extra":{"a":[1,2]}}
            """);

        Assert.Equal(new RoomEvent(null, "lobby", "1764500000000-0", "al/ice", "café \"quoted\"\nline", "c-1", 42, 1764400000000,
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), roomEvent);
    }

    [Fact]
    public void Presence_and_moderation_notices_are_read_by_their_type()
    {
        Assert.Equal(new RoomEvent(RoomEvent.Joined, "lobby", User: "bob", Except: "conn-1"),
            Parse("""{"type":"joined","room":"lobby","user":"bob","except":"conn-1"}"""));
        Assert.Equal(new RoomEvent(RoomEvent.Moderated, "lobby", MessageId: "1-0", Reason: "blocked_word"),
            Parse("""{"reason":"blocked_word","messageId":"1-0","room":"lobby","type":"moderated"}"""));
    }

    [Theory]
    [InlineData("{not a message")]
    [InlineData("[1,2]")]
    [InlineData("\"lobby\"")]
    [InlineData("""{"room":"lobby","sequence":"seven"}""")]
    [InlineData("""{"room":"lobby"} {"room":"other"}""")]
    [InlineData("""{"user":"bob"}""")]
    [InlineData("")]
    public void Anything_else_is_refused(string payload) =>
        Assert.IsType<JsonException>(Record.Exception(() => Parse(payload)));

    private static RoomEvent Parse(string json) => RoomEvent.Parse(Encoding.UTF8.GetBytes(json));
}
