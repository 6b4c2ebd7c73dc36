using System.Runtime.CompilerServices;

namespace Aspire.Hosting;

/// <summary>The AppHost cannot start as configured; the message is one line that says how to fix it.</summary>
public sealed class AppHostConfigurationException(string message) : Exception(message)
{
    // A configuration mistake deserves its one line, not an "Unhandled exception" with a stack trace.
    // Tests run the AppHost in-process and catch the exception before it is ever unhandled.
    [ModuleInitializer]
    internal static void ReportAsOneLine() =>
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is AppHostConfigurationException error)
            {
                Console.Error.WriteLine($"error: {error.Message}");
                Environment.Exit(1);
            }
        };
}
