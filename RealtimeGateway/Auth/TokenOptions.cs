using System.ComponentModel.DataAnnotations;
using System.Text;

namespace RealtimeDemo.RealtimeGateway.Auth;

/// <summary>The development token issuer and the hub's token validation; section "Auth". Checked at start-up.</summary>
public sealed class TokenOptions : IValidatableObject
{
    public const string Section = "Auth";

    /// <summary>HMAC-SHA256 key, at least 32 bytes of UTF-8. The AppHost generates one and keeps it in user secrets.</summary>
    [Required(ErrorMessage = "Auth:SigningKey is required (the AppHost provides it; for a bare run set Auth__SigningKey to 32+ characters).")]
    public string SigningKey { get; set; } = "";

    [Required]
    public string Issuer { get; set; } = "realtimedemo";

    [Required]
    public string Audience { get; set; } = "realtimedemo-chat";

    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public byte[] SigningKeyBytes => Encoding.UTF8.GetBytes(SigningKey);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SigningKey.Length > 0 && SigningKeyBytes.Length < 32)
        {
            yield return new ValidationResult("Auth:SigningKey must be at least 32 bytes (HMAC-SHA256).", [nameof(SigningKey)]);
        }
    }
}
