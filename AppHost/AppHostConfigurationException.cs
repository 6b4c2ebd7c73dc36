namespace RealtimeDemo.AppHost;

/// <summary>The AppHost cannot start as configured; the message is one line that says how to fix it (AppHost.cs prints just that).</summary>
public sealed class AppHostConfigurationException(string message) : Exception(message);
