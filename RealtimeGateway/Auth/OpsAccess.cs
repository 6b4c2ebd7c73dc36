using System.ComponentModel.DataAnnotations;

namespace RealtimeDemo.RealtimeGateway.Auth;

/// <summary>Who may read the operations snapshot besides users with the operator role; section "Ops". Checked at start-up.</summary>
public sealed class OpsAccess
{
    public const string Section = "Ops";

    /// <summary>A shared secret the AppHost generates and gives the frontend; unset, only the operator role opens the snapshot.</summary>
    [MinLength(32, ErrorMessage = "Ops:AccessKey must be at least 32 characters (the AppHost generates one).")]
    public string? AccessKey { get; set; }
}
