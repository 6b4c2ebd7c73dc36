using Microsoft.Extensions.Logging;

namespace RealtimeDemo.ServerShared;

/// <summary>
/// The Redis client's loggers, less its error for every failed reconnect try: while Redis is away it logs one a
/// second per connection (36 in a 25 s outage, so thousands in an hour), where the loops that meet the outage log it
/// once, its end with how long it lasted, and count it. Its warning for each break ("Connection failed: … Dead
/// socket detected"), once per break, and everything else it says stay.
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
            if (eventId.Id != UnableToConnect)
            {
                logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
