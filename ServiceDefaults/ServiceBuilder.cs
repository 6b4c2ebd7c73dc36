using Microsoft.AspNetCore.Builder;

namespace Microsoft.Extensions.Hosting;

public static class ServiceBuilder
{
    /// <summary>
    /// A service's builder. Its content root (where appsettings.json is read from) is the current directory, as
    /// ASP.NET Core's default, when that holds the service's settings file (its project directory under the AppHost
    /// and dotnet run; the image's directory in a container); otherwise the service's own directory, where the build
    /// copies its settings. Started from anywhere else (dotnet path/to/ChatWorker.dll) it ran without them: no
    /// blocked words, and its log levels at their defaults.
    /// </summary>
    public static WebApplicationBuilder Create(string[] args) => WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args,
        ContentRootPath = File.Exists(Path.Combine(Environment.CurrentDirectory, "appsettings.json")) ? null : AppContext.BaseDirectory,
    });
}
