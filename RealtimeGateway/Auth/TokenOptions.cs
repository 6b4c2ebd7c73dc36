using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using System.Text;

namespace RealtimeDemo.RealtimeGateway.Auth;

/// <summary>
/// Who may connect; section "Auth". Two modes: an external OpenID Connect identity provider
/// (<see cref="Authority"/>: Keycloak, Entra ID, Auth0, …) whose tokens the hub validates, or the development
/// token issuer (<see cref="DevelopmentTokens"/>), which signs any valid name for anyone. Checked at start-up.
/// </summary>
public sealed class TokenOptions : IValidatableObject
{
    public const string Section = "Auth";

    /// <summary>The identity provider's issuer URL; its OpenID discovery document names the signing keys (JWKS).</summary>
    public string? Authority { get; set; }

    /// <summary>
    /// The development token issuer (POST /auth/token). Unset: on only in the Development environment and only
    /// without an <see cref="Authority"/>. It can never be on beside an authority.
    /// </summary>
    public bool? DevelopmentTokens { get; set; }

    /// <summary>HMAC-SHA256 key for development tokens, at least 32 bytes of UTF-8. The AppHost generates one and keeps it in user secrets.</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>The development issuer's name (with an authority, the discovery document's issuer is used).</summary>
    [Required]
    public string Issuer { get; set; } = "realtimedemo";

    /// <summary>The audience every token must be for, in both modes.</summary>
    [Required]
    public string Audience { get; set; } = "realtimedemo-chat";

    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The claim that holds the chat user name in an identity provider's tokens; it must follow the user-name rule.</summary>
    [Required]
    public string NameClaim { get; set; } = "preferred_username";

    /// <summary>The claim that lists a user's roles in an identity provider's tokens.</summary>
    [Required]
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The role that may read GET /ops/snapshot (besides the frontend, which holds Ops:AccessKey).</summary>
    [Required]
    public string OperatorRole { get; set; } = "chat-operator";

    /// <summary>Fetch the identity provider's metadata over https only (off only for a test issuer on loopback).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>POST /auth/token per client address (sized for an office behind one NAT address).</summary>
    [Required, ValidateObjectMembers]
    public TokenRequestLimits TokenRequests { get; set; } = new();

    public byte[] SigningKeyBytes => Encoding.UTF8.GetBytes(SigningKey);

    public bool UsesAuthority => !string.IsNullOrWhiteSpace(Authority);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Checked here, not at the first token: the handler fetches the provider's metadata then, and every
        // connection would fail with a server error while the gateway looked healthy.
        if (UsesAuthority && !(Uri.TryCreate(Authority, UriKind.Absolute, out var authority)
            && (authority.Scheme == Uri.UriSchemeHttps || authority.Scheme == Uri.UriSchemeHttp && !RequireHttpsMetadata)))
        {
            yield return new ValidationResult($"Auth:Authority must be the identity provider's issuer as an https URL (http only for a test issuer, with Auth:RequireHttpsMetadata=false); it is '{Authority}'.", [nameof(Authority)]);
        }

        if (UsesAuthority && DevelopmentTokens == true)
        {
            yield return new ValidationResult("Auth:DevelopmentTokens cannot be on with Auth:Authority: anyone could mint a token beside the identity provider's.", [nameof(DevelopmentTokens)]);
        }

        if (!UsesAuthority && DevelopmentTokens != true)
        {
            yield return new ValidationResult("Nobody could sign in: set Auth:Authority (an OpenID Connect identity provider) or Auth:DevelopmentTokens=true (anyone gets a token for any name).", [nameof(Authority)]);
        }

        if (DevelopmentTokens == true && SigningKeyBytes.Length < 32)
        {
            yield return new ValidationResult("Auth:SigningKey must be at least 32 bytes (HMAC-SHA256) for development tokens (the AppHost provides one; for a bare run set Auth__SigningKey).", [nameof(SigningKey)]);
        }
    }
}

public sealed class TokenRequestLimits
{
    /// <summary>Refilled one at a time, so at most one a millisecond.</summary>
    [Range(1, 60_000)]
    public int PermitsPerMinute { get; set; } = 300;

    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 100;
}
