using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RealtimeDemo.Contracts;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Fast.InProcess;

/// <summary>
/// A browser sends its token in the hub URL's query string (it cannot set a WebSocket's headers). An operator who
/// turns every log category up to Trace to see what happens must still not find a token in the logs.
/// </summary>
public sealed class TokenInLogsTests : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private readonly InProcessGateway _gateway;

    public TokenInLogsTests() => _gateway = new InProcessGateway(host => host
        .UseSetting("Logging:LogLevel:Default", "Trace")
        .UseSetting("Logging:LogLevel:Microsoft.AspNetCore", "Trace")
        .UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Trace")
        .ConfigureServices(services => services.AddSingleton<ILoggerProvider>(_logs)));

    public ValueTask InitializeAsync() => _gateway.InitializeAsync();

    public ValueTask DisposeAsync() => _gateway.DisposeAsync();

    [Fact]
    public async Task With_every_category_at_trace_no_log_line_holds_a_token_sent_in_the_query_string()
    {
        var (room, user) = (Unique("logs"), Unique("alice"));
        var token = await _gateway.TokenAsync(user);
        await using (var alice = await _gateway.ConnectAsync(user, tokenInQuery: true, token))
        {
            await alice.Chat.JoinRoomAsync(room);
            await alice.Chat.SendMessageAsync(room, "c-1", "hello");
        }

        // The capture works: the hub's requests were logged at these levels, only never with the token.
        Assert.Contains(_logs.Lines, line => line.Contains(ChatHubPaths.Hub, StringComparison.Ordinal));
        var signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(signature, StringComparison.Ordinal));
    }

    /// <summary>Every line every category logs, with its scopes' text.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable BeginScope<TState>(TState state) where TState : notnull
            {
                lines.Enqueue($"{category} scope: {state}");
                return NullScope.Instance;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {exception}");
        }

        private sealed class NullScope : IDisposable
        {
            public static readonly NullScope Instance = new();

            public void Dispose()
            {
            }
        }
    }
}
