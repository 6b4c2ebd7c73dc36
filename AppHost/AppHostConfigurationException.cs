namespace Aspire.Hosting;

/// <summary>The AppHost cannot start as configured; the message is one line that says how to fix it.</summary>
public sealed class AppHostConfigurationException(string message) : Exception(message);
