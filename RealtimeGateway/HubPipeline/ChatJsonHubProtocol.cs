using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using RealtimeDemo.RealtimeGateway.Chat;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// SignalR's JSON hub protocol, with every error a client reads in our own words. SignalR words a failure as
/// its own sentence followed by the exception's type name and message ("An unexpected error occurred invoking
/// 'X' on the server. ChatHubError: …"), and reports arguments it cannot bind or frames it cannot parse with
/// .NET exception names. Here unbindable arguments and unparsable frames become <see cref="ChatHubError"/>s
/// that say what the method takes or what a frame must be, and every error written to a client is cut down
/// to our part: no framework sentence, exception type or stack trace reaches a client. Every close but a refusal tells
/// the client it may reconnect: SignalR writes its plain close, which official clients obey by giving up for good,
/// whenever the connection was aborted, and that is the drain and also our own timeouts. A client closed for
/// silence may only have been held up (its pings queued behind a stalled replica or a resumed laptop). A refusal is
/// a connection refused at connect, by a limit, for a malformed client id or attempt, or as an attempt its client gave up (<see cref="ChatConnectionRefused"/>): reconnecting would be refused again, and a
/// stock client's first retry comes at once, so it would cycle about once a second until the person acts. (A close
/// the gateway writes itself, <see cref="OurCloseMessage"/> — a connection replaced by its client's newer one, a token that expired, a silent client — goes out as it is.)
/// </summary>
internal sealed partial class ChatJsonHubProtocol(
    IOptions<JsonHubProtocolOptions> json, IOptions<ChatOptions> chat) : IHubProtocol
{
    private static readonly string OurErrorMarker = $" {nameof(ChatHubError)}: ";
    private static readonly string RefusalMarker = $" {nameof(ChatConnectionRefused)}: ";

    private readonly JsonHubProtocol _inner = new(json);

    public string Name => _inner.Name;

    public int Version => _inner.Version;

    public TransferFormat TransferFormat => _inner.TransferFormat;

    /// <summary>The name a client's handshake gives (SignalR matches it ignoring case).</summary>
    public const string ProtocolName = "json";

    // SignalR's JSON protocol takes any version up to its own (2), 0 and negative ones too; there are none below 1.
    public const int LowestVersion = 1;
    public const int HighestVersion = 2;

    public static bool SupportsVersion(int version) => version is >= LowestVersion and <= HighestVersion;

    public bool IsVersionSupported(int version) => SupportsVersion(version) && _inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        var frame = input;
        bool parsed;
        try
        {
            // SignalR's parser binds an "item" as soon as it has an "invocationId", whatever the frame's type, and
            // SignalR's binder throws for a stream the connection never opened (this hub opens none): the parser then
            // gave the whole frame up as a failed stream item, dropped without a word, so a call that carried a stray
            // "item" was never answered and a frame of no known type was never refused (or, with the item first, the
            // frame was refused as malformed). With the item bound as any JSON value each frame is what its type says:
            // a stream item (type 2) is dropped by SignalR as one for a stream it does not know, as the protocol has
            // it; a call is answered, its "item" ignored.
            parsed = _inner.TryParseMessage(ref input, new StreamItemsAsAnyValue(binder), out message);
        }
        catch (Exception ex) when (ex is not HubException)
        {
            throw new ChatHubError(ChatErrorCodes.ProtocolError, MalformedFrame.Describe(frame));
        }

        // What is left of a failed stream item is an "item" that is not JSON (the parser's own error, caught by it).
        if (message is StreamBindingFailureMessage)
        {
            throw new ChatHubError(ChatErrorCodes.ProtocolError, MalformedFrame.Describe(frame));
        }

        // SignalR reads the record's first JSON value and drops whatever follows it, so a second message written into the
        // same record (a client that forgot the separator) was lost without a word.
        if (parsed && !HoldsOneValue(frame.Slice(0, frame.Length - input.Length)))
        {
            throw new ChatHubError(ChatErrorCodes.ProtocolError,
                "A frame held something after its message: each message is one JSON object followed by the 0x1E separator; the connection is closed.");
        }

        // A call whose "invocationId" was written in another case ("InvocationId") is read by SignalR as one that wants
        // no answer: it ran (or its arguments' refusal was dropped), and its client waited for the answer for ever.
        // Looked for only on calls with no id.
        if (parsed && message is InvocationMessage { InvocationId: null or "" } or InvocationBindingFailureMessage { InvocationId: null or "" }
            && MalformedFrame.MisspeltCallId(frame.Slice(0, frame.Length - input.Length - 1)) is { } misspelt)
        {
            throw new ChatHubError(ChatErrorCodes.ProtocolError, misspelt);
        }

        // A record of a type the protocol does not have is read and dropped by SignalR's parser, which then reports
        // nothing parsed; SignalR's reading loop takes that for an unfinished record, keeps it at the head of the
        // buffer and waits for more, so every later invocation of the connection would go unanswered.
        if (!parsed && input.Length < frame.Length)
        {
            throw new ChatHubError(ChatErrorCodes.ProtocolError,
                "A frame's \"type\" is not a message type of SignalR's JSON hub protocol (1 to 9); the connection is closed.");
        }

        // SignalR hands the parser at most the size limit; a frame that still has no end is larger than that.
        var limit = chat.Value.Limits.MaxMessageBytes;
        if (!parsed && input.Length >= limit)
        {
            throw new ChatHubError(ChatErrorCodes.FrameTooLarge,
                $"A frame was larger than {limit} bytes (Chat:Limits:MaxMessageBytes); the connection is closed.");
        }

        // Refused here as binding failures, so that the client reads our sentence: SignalR's own for these name its internals.
        message = message switch
        {
            InvocationBindingFailureMessage failure => Refused(failure.InvocationId, failure.Target,
                HubMethodSignatures.Describe(failure.Target, HoldsStringThatIsNotText(frame.Slice(0, frame.Length - input.Length)))),
            StreamInvocationMessage stream => Refused(stream.InvocationId, stream.Target,
                $"The chat hub has no streaming methods: call '{stream.Target}' with an invocation (message type 1), not a stream invocation (type 4)."),
            InvocationMessage { StreamIds.Length: > 0 } invocation => Refused(invocation.InvocationId, invocation.Target,
                $"The chat hub's methods take no stream arguments: send '{invocation.Target}' its arguments in \"arguments\", with no \"streamIds\"."),
            _ => message,
        };

        return parsed;
    }

    private static bool HoldsOneValue(ReadOnlySequence<byte> record)
    {
        var reader = new Utf8JsonReader(record.Slice(0, Math.Max(0, record.Length - 1))); // without the separator
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false; // the reader's own refusal of a second value
        }
    }

    // JSON allows an escaped lone surrogate ("\ud800"), which no .NET string holds, and a client can send bytes that
    // are not UTF-8 inside a string: the parser finds either only when it reads the string, and SignalR then reports
    // arguments that do not fit. Read again here, on that failure only.
    private static bool HoldsStringThatIsNotText(ReadOnlySequence<byte> frame)
    {
        var reader = new Utf8JsonReader(frame.Slice(0, Math.Max(0, frame.Length - 1))); // without the separator
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                {
                    try
                    {
                        reader.GetString();
                    }
                    catch (InvalidOperationException)
                    {
                        return true;
                    }
                }
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }

    /// <summary>SignalR's binder for the connection, but a stream item binds as whatever JSON value it is.</summary>
    private sealed class StreamItemsAsAnyValue(IInvocationBinder binder) : IInvocationBinder
    {
        public Type GetReturnType(string invocationId) => binder.GetReturnType(invocationId);

        public IReadOnlyList<Type> GetParameterTypes(string methodName) => binder.GetParameterTypes(methodName);

        public Type GetStreamItemType(string streamId) => typeof(object);

        public string? GetTarget(ReadOnlySpan<byte> utf8Bytes) => binder.GetTarget(utf8Bytes);
    }

    private static InvocationBindingFailureMessage Refused(string? invocationId, string target, string why) =>
        new(invocationId, target, ExceptionDispatchInfo.Capture(new ChatHubError(ChatErrorCodes.InvalidArgument, why)));

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(InOurWords(message), output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(InOurWords(message));

    private HubMessage InOurWords(HubMessage message) => message switch
    {
        OurCloseMessage ours => ours,
        CompletionMessage { Error: { } error } completion =>
            new CompletionMessage(completion.InvocationId!, OurPart(error), result: null, hasResult: false) { Headers = completion.Headers },
        CloseMessage { Error: { } error } when error.Contains(RefusalMarker, StringComparison.Ordinal) =>
            new CloseMessage(error[(error.IndexOf(RefusalMarker, StringComparison.Ordinal) + RefusalMarker.Length)..], allowReconnect: false),
        CloseMessage close => new CloseMessage(close.Error is { } error ? OurPart(error) : null, allowReconnect: true),
        _ => message,
    };

    /// <summary>Our own message when the error carries one; otherwise SignalR's sentence without any exception type name.</summary>
    private static string OurPart(string error)
    {
        var ours = error.IndexOf(OurErrorMarker, StringComparison.Ordinal);
        return ours >= 0 ? error[(ours + OurErrorMarker.Length)..] : ExceptionTypeName().Replace(error, " ");
    }

    [GeneratedRegex(@" [A-Za-z0-9_.]*(Exception|Error): ")]
    private static partial Regex ExceptionTypeName();
}

/// <summary>A close the gateway writes itself, in its own words, saying whether the client may reconnect.</summary>
internal sealed class OurCloseMessage(string error, bool allowReconnect) : CloseMessage(error, allowReconnect);
