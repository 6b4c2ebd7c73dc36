using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// An OpenID Connect identity provider in the test process, as far as a resource server sees one: a discovery
/// document and a JWKS with its own RSA key on loopback, and tokens signed with that key.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string Audience = "realtimedemo-chat";

    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "test-key-1" };

    private TestIdentityProvider(WebApplication app, Uri issuer)
    {
        _app = app;
        Issuer = issuer;
    }

    /// <summary>The issuer URL (Auth:Authority), with a trailing slash as providers publish it.</summary>
    public Uri Issuer { get; }

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var issuer = new Uri($"http://127.0.0.1:{FreePort.Next()}/realms/test/");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(new Uri(issuer, "/").ToString());
        var app = builder.Build();
        var provider = new TestIdentityProvider(app, issuer);
        app.MapGet("/realms/test/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer.ToString(),
            ["jwks_uri"] = new Uri(issuer, "protocol/openid-connect/certs").ToString(),
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/realms/test/protocol/openid-connect/certs", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(provider._key.Rsa.ExportParameters(false)) { KeyId = provider._key.KeyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        await app.StartAsync();
        return provider;
    }

    /// <summary>A token as this provider would issue it; each argument changes one thing a resource server must check.</summary>
    public string CreateToken(string userName, string audience = Audience, string? issuer = null, SecurityKey? signingKey = null,
        IReadOnlyList<string>? roles = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = Guid.NewGuid().ToString(), ["preferred_username"] = userName };
        if (roles is not null)
        {
            claims["roles"] = roles;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer.ToString(),
            Audience = audience,
            Expires = DateTime.UtcNow.AddMinutes(10),
            Claims = claims,
            SigningCredentials = new SigningCredentials(signingKey ?? _key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>An RSA key this provider does not publish.</summary>
    public static RsaSecurityKey UnknownKey(string keyId) => new(RSA.Create(2048)) { KeyId = keyId };

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
