using System.Reflection;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Where the solution and the services it built live, so tests can start them as real processes.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the configuration these tests were built in, and so the services too.</summary>
    public static string Configuration =>
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The built entry assembly of a service project, e.g. RealtimeGateway/bin/Debug/net10.0/RealtimeGateway.dll.</summary>
    public static string ServiceAssembly(string project)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", $"{project}.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{project} is not built at {path}; build the solution first (dotnet build RealtimeDemo.sln).");
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RealtimeDemo.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No RealtimeDemo.sln above {AppContext.BaseDirectory}.");
    }
}
