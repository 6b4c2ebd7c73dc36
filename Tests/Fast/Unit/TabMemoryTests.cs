using RealtimeDemo.WebFrontend.Components.Chat;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>What a tab gives back after a reload is input from outside: only a session the page could have written is used.</summary>
public sealed class TabMemoryTests
{
    [Fact]
    public void A_session_the_page_wrote_comes_back_as_it_was()
    {
        var remembered = TabMemory.Parse("""{"user":"alice","rooms":["lobby","room-2"],"current":"room-2"}""");

        Assert.NotNull(remembered);
        Assert.Equal("alice", remembered.User);
        Assert.Equal(["lobby", "room-2"], remembered.Rooms);
        Assert.Equal("room-2", remembered.Current);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"rooms":[]}""")] // no name
    [InlineData("""{"user":"not a name!","rooms":[]}""")]
    [InlineData("""{"user":"alice"}""")] // no rooms
    [InlineData("""{"user":"alice","rooms":["a room"]}""")]
    [InlineData("""{"user":"alice","rooms":[null]}""")]
    [InlineData("""{"user":"alice","rooms":["lobby"],"current":"elsewhere"}""")] // open in a room it is not in
    [InlineData("""{"user":"alice","rooms":7}""")]
    public void A_session_that_breaks_the_rules_is_not_used(string json) => Assert.Null(TabMemory.Parse(json));

    [Fact]
    public void A_session_of_more_rooms_or_text_than_a_page_keeps_is_not_used()
    {
        var rooms = string.Join(",", Enumerable.Range(0, 201).Select(i => $"\"r{i}\""));
        Assert.Null(TabMemory.Parse($$"""{"user":"alice","rooms":[{{rooms}}]}"""));
        Assert.Null(TabMemory.Parse($$"""{"user":"alice","rooms":[],"padding":"{{new string('x', 20_000)}}"}"""));
    }
}
