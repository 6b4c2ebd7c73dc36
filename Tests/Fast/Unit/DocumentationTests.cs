using System.Text.RegularExpressions;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>What the docs and the contract say of the tree stays true of it.</summary>
public sealed partial class DocumentationTests
{
    [Fact]
    public void The_JavaScript_client_knows_the_gateways_sentences_it_acts_on_as_the_gateway_words_them()
    {
        // A plain JavaScript file cannot read the gateway's constants: a reworded sentence would silently stop the
        // client treating a leave of a room it is not in as done, or a storage timeout as possibly stored.
        var client = File.ReadAllText(Path.Combine(Repository.Root, "clients", "js", "src", "chat-client.js"));
        Assert.Contains($"'{RealtimeDemo.Contracts.ChatHubMethods.NotInRoomRefusal}'", client);
        Assert.Contains($"'{RealtimeDemo.Contracts.ChatHubMethods.StorageUnavailableRefusal}'", client);
        Assert.Contains($"'{RealtimeDemo.Contracts.ChatHubMethods.ServerFailure}'", client);
    }

    [Fact]
    public void Every_file_and_folder_the_architecture_page_names_exists()
    {
        var page = File.ReadAllText(Path.Combine(Repository.Root, "docs", "architecture.md"));

        var named = RepositoryPath().Matches(page).Select(m => m.Groups[1].Value).Distinct().ToList();

        Assert.True(named.Count > 20, $"the page names only {named.Count} paths");
        var missing = named.Where(path => !File.Exists(Path.Combine(Repository.Root, path)) && !Directory.Exists(Path.Combine(Repository.Root, path))).ToList();
        Assert.True(missing.Count == 0, $"docs/architecture.md names paths that do not exist: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_hub_implements_exactly_the_methods_the_contract_names()
    {
        var implemented = typeof(ChatHub).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly)
            .Where(m => !m.Name.StartsWith("On", StringComparison.Ordinal))
            .Select(m => m.Name);

        Assert.Equal(ChatHubMethods.All.Order(), implemented.Order());
    }

    // `a/path/like/this.cs` or `a/folder/`: a backticked path with a slash, as the page writes the files it names.
    [GeneratedRegex(@"`((?:[A-Za-z0-9_.-]+/)+(?:[A-Za-z0-9_.-]+\.(?:cs|razor|md|json|js|sh))?)`")]
    private static partial Regex RepositoryPath();
}
