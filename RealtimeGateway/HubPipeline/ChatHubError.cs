using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Every error the gateway sends a client: the message is for the person, <see cref="Code"/> is for
/// telemetry (error.type) — a limit's name, "invalid_argument", "not_member", "storage_unavailable", ….
/// </summary>
public class ChatHubError(string code, string message) : HubException(message)
{
    public string Code { get; } = code;

    /// <summary>The server failed (as opposed to refusing what the client asked).</summary>
    public bool IsServerFault => Code is ChatErrorCodes.StorageUnavailable or ChatErrorCodes.Internal;
}

/// <summary>
/// A connection refused at connect by a limit (the user's connections, the cluster's): reconnecting at once would be
/// refused again, and a client that obeyed the usual "reconnect" would do so about once a second for as long as the
/// page stays open, so the client is told not to (it shows the sentence and waits for the person).
/// </summary>
public sealed class ChatConnectionRefused(string code, string message) : ChatHubError(code, message);

public static class ChatErrorCodes
{
    public const string InvalidArgument = "invalid_argument";
    public const string NotMember = "not_member";
    public const string UserNotFound = "user_not_found";
    public const string RateLimited = "rate_limited";
    public const string TooManyRooms = "too_many_rooms";
    public const string ClusterFull = "cluster_full";
    public const string UserFull = "user_full";
    public const string Superseded = "superseded";
    public const string StorageUnavailable = "storage_unavailable";
    public const string Internal = "internal";
    public const string ConnectionClosing = "connection_closing";
    public const string ProtocolError = "protocol_error";
    public const string FrameTooLarge = "frame_too_large";
}
