using System.Text.Json;
using Microsoft.JSInterop;
using RealtimeDemo.Contracts;
using RealtimeDemo.WebFrontend.Gateway;

namespace RealtimeDemo.WebFrontend.Components.Chat;

/// <summary>
/// What a reload of the chat page brings back: the user name, the rooms joined and the room open, kept in the tab's
/// sessionStorage (this tab only, gone when it closes; wwwroot/tab-memory.js). A reload, or a frontend restarted under
/// the page, ends the circuit and its <see cref="ChatSession"/>; the page then signs in again under the same name and
/// rejoins the rooms. No token is kept (a new one is asked for), and nothing another user could not type in.
/// </summary>
public sealed class TabMemory(IJSRuntime js, ILogger<TabMemory> logger)
{
    // A tab's own storage is input from outside like anything typed: bounded, and checked by the same rules.
    private const int MaxLength = 16_384; // tab-memory.js drops a value before sending it when it is far larger
    private const int MaxRooms = 200;

    private string? _kept;

    /// <summary>
    /// Set while a sign-in rejoins the rooms kept: each join renders the page, and writing the list down then would
    /// keep the rooms joined so far, and lose the rest to a second reload in the middle.
    /// </summary>
    public bool Restoring { get; set; }

    public sealed record Remembered(string User, IReadOnlyList<string> Rooms, string? Current);

    /// <summary>The session this tab had before its reload, or null: none, or one that breaks the rules (then forgotten).</summary>
    public async Task<Remembered?> RecallAsync()
    {
        var json = await CallAsync(() => js.InvokeAsync<string?>("chatTabMemory.recall").AsTask());
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        if (Parse(json) is { } remembered)
        {
            _kept = json;
            return remembered;
        }

        logger.LogWarning("The tab's saved chat session was not one this page writes; it was forgotten and the page starts at sign-in.");
        await CallAsync(() => js.InvokeVoidAsync("chatTabMemory.forget").AsTask());
        return null;
    }

    /// <summary>
    /// Writes the session down when it has changed since the last write (the page calls this after each render), once
    /// signed in: a sign-in that failed leaves what was kept for the next try.
    /// </summary>
    public async Task KeepAsync(ChatSession session)
    {
        if (Restoring || session.Connection is null || session.UserName is not { } user)
        {
            return;
        }

        IReadOnlyList<string> rooms = [.. session.JoinedRooms, .. session.NotRejoinedRooms.Select(r => r.Room)];
        var json = JsonSerializer.Serialize(new Remembered(user, rooms, session.CurrentRoom), JsonSerializerOptions.Web);
        // What would not be read back is not kept, and what was kept before is forgotten rather than left stale.
        var value = rooms.Count <= MaxRooms && json.Length <= MaxLength ? json : null;
        if (value == _kept)
        {
            return;
        }

        _kept = value;
        await CallAsync(() => value is null
            ? js.InvokeVoidAsync("chatTabMemory.forget").AsTask()
            : js.InvokeVoidAsync("chatTabMemory.keep", value).AsTask());
    }

    public static Remembered? Parse(string json)
    {
        if (json.Length > MaxLength)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Remembered>(json, JsonSerializerOptions.Web) is { } remembered
                && ChatNames.IsValidUser(remembered.User)
                && remembered.Rooms is { Count: <= MaxRooms } rooms && rooms.All(ChatNames.IsValidRoom)
                && (remembered.Current is null || rooms.Contains(remembered.Current))
                ? remembered
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // A tab whose storage is off or full, or that has gone, simply does not remember: the chat works on without it.
    private async Task<T?> CallAsync<T>(Func<Task<T?>> call)
    {
        try
        {
            return await call();
        }
        catch (JSDisconnectedException)
        {
            return default;
        }
        catch (Exception ex) when (ex is JSException or OperationCanceledException)
        {
            logger.LogWarning("The tab's storage could not be read or written, so a reload will start at sign-in: {Reason}", ex.GetType().Name);
            return default;
        }
    }

    private Task CallAsync(Func<Task> call) => CallAsync<object>(async () =>
    {
        await call();
        return null;
    });
}
