using System.Net;
using System.Text;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Services;

/// <summary>
/// The frontend takes its pages with GET or HEAD and its live connection under /_blazor; anything else a script or a
/// probe sends is refused with a status and a sentence of ours (it was an empty 400, an empty 404, or SignalR's
/// "Connection ID required"), and the live connection's transports still work behind the rewording.
/// </summary>
public sealed class FrontendRequestTests : IAsyncLifetime
{
    private const string PagesTakeGet = "The chat frontend's pages are read with GET";
    private const string NotALiveConnectionRequest = "This address is the chat page's live connection, which the page opens itself";
    private const string LiveConnectionGone = "This live connection of the chat page has ended, or never was";

    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private ServiceProcess _frontend = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        // Nothing here reaches the gateway: the pages render without it.
        _frontend = await ServiceProcess.StartAsync("WebFrontend", new Dictionary<string, string> { ["Gateway__Url"] = "http://127.0.0.1:1" }, _ct);
        _http = new HttpClient { BaseAddress = _frontend.BaseAddress };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _frontend.DisposeAsync();
    }

    public static TheoryData<string, string> OtherMethods => new()
    {
        { "POST", "/" },
        { "POST", "/js/settings" },
        { "PUT", "/nothing-here" },
        { "DELETE", "/js" },
        { "OPTIONS", "/" },
    };

    [Theory]
    [MemberData(nameof(OtherMethods))]
    public async Task A_page_asked_for_with_another_method_than_GET_is_refused_in_our_words(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("name=alice", Encoding.UTF8, "application/x-www-form-urlencoded") };
        using var response = await _http.SendAsync(request, _ct);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
        await AssertSentenceAsync(response, PagesTakeGet);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/js")]
    public async Task A_page_answers_HEAD_as_it_answers_GET_without_a_body(string path)
    {
        using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path), _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(_ct));
    }

    [Fact]
    public async Task The_not_found_page_asked_for_by_name_says_not_found_with_its_status()
    {
        using var response = await _http.GetAsync("/not-found", _ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("There is no page at this address.", await response.Content.ReadAsStringAsync(_ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/_blazor", HttpStatusCode.BadRequest, NotALiveConnectionRequest)]
    [InlineData("POST", "/_blazor", HttpStatusCode.BadRequest, NotALiveConnectionRequest)]
    [InlineData("GET", "/_blazor/negotiate", HttpStatusCode.MethodNotAllowed, NotALiveConnectionRequest)]
    [InlineData("GET", "/_blazor?id=no-such-connection", HttpStatusCode.NotFound, LiveConnectionGone)]
    public async Task A_request_to_the_live_connection_that_is_not_one_a_page_makes_is_refused_in_our_words(string method, string path, HttpStatusCode status, string sentence)
    {
        using var response = await _http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), _ct);

        Assert.Equal(status, response.StatusCode);
        await AssertSentenceAsync(response, sentence);
    }

    // SignalR's answers were "The client requested a non-integer protocol version." and "… version '-1', but the server
    // does not support this version.", which do not say what it takes.
    [Theory]
    [InlineData("?negotiateVersion=zzz")]
    [InlineData("?negotiateVersion=-1")]
    [InlineData("?negotiateVersion=1&negotiateVersion=1")]
    public async Task A_negotiate_asking_for_a_version_that_is_not_one_is_answered_saying_what_versions_are(string query)
    {
        using var response = await _http.PostAsync($"/_blazor/negotiate{query}", null, _ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // as SignalR answers it: its client reports the error
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(_ct)).RootElement;
        Assert.Equal("negotiateVersion must be a whole number from 0; the chat page's live connection speaks versions 0 and 1.", answer.GetProperty("error").GetString());
        Assert.False(answer.TryGetProperty("connectionToken", out _));
    }

    [Fact]
    public async Task The_live_connection_still_long_polls_behind_the_reworded_refusals()
    {
        using var negotiated = await _http.PostAsync("/_blazor/negotiate?negotiateVersion=1", null, _ct);
        var id = JsonDocument.Parse(await negotiated.Content.ReadAsStringAsync(_ct)).RootElement.GetProperty("connectionToken").GetString();

        using var first = await _http.GetAsync($"/_blazor?id={id}", _ct); // SignalR answers a long poll's first request at once
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var handshake = await _http.PostAsync($"/_blazor?id={id}", new StringContent("{\"protocol\":\"blazorpack\",\"version\":1}\u001e"), _ct);
        Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);
        using var poll = await _http.GetAsync($"/_blazor?id={id}", _ct);

        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal("{}\u001e", await poll.Content.ReadAsStringAsync(_ct)); // the handshake's answer, byte for byte
    }

    private async Task AssertSentenceAsync(HttpResponseMessage response, string sentence)
    {
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(_ct);
        Assert.StartsWith(sentence, body, StringComparison.Ordinal);
    }
}
