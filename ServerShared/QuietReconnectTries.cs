using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

/// <summary>
/// The Redis client's loggers, less its errors for connections it could not make: while Redis is away it logs one a
/// second per connection at every reconnect try (36 in a 25 s outage, so thousands in an hour), and a service started
/// before Redis got two more ("Connection failed: … (Interactive, UnableToConnect)", then Subscription, each with the
/// client's state dump) before its own warning; the loops that meet the outage log it once in our words, its end
/// with how long it lasted, and count it. Its warning for each break ("Connection failed: … Dead socket detected"),
/// once per break, and everything else it says stay.
/// </summary>
internal sealed class QuietReconnectTries(ILoggerFactory loggers) : ILoggerFactory
{
    // StackExchange.Redis's event id for "UnableToConnect on host:port/Interactive, …" (LoggerExtensions).
    private const int UnableToConnect = 89;

    public ILogger CreateLogger(string categoryName) => new Logger(loggers.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => loggers.AddProvider(provider);

    public void Dispose()
    {
        // Not ours: the host's logger factory.
    }

    private sealed class Logger(ILogger logger) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != UnableToConnect && exception is not RedisConnectionException { FailureType: ConnectionFailureType.UnableToConnect })
            {
                logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
