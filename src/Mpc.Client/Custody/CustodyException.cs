namespace Mpc.Client.Custody;

/// <summary>Why a backup, enrolment request, pending enrolment, handover or device profile was refused. Stable: the CLI maps these to hints.</summary>
public enum CustodyErrorReason
{
    /// <summary>Truncated, malformed or internally inconsistent input.</summary>
    Corrupt = 1,

    /// <summary>A file or token of another kind (a key file given as a backup, a handover given as a request...).</summary>
    WrongKind,

    /// <summary>A newer (or unknown) format version.</summary>
    UnsupportedVersion,

    /// <summary>AES-GCM refused: a wrong passphrase or a modified file; GCM cannot tell which.</summary>
    WrongPassphrase,

    /// <summary>The file asks for weaker Argon2id parameters than this client accepts.</summary>
    Downgrade,

    /// <summary>The enrolment request is older than its lifetime (or dated in the future).</summary>
    Expired,

    /// <summary>
    /// The handover does not belong to this pending enrolment: made for another request or key, modified, or carrying
    /// a share other than the one it names. The pending enrolment is used up (start a new request).
    /// </summary>
    HandoverRejected,

    /// <summary>The confirmation code typed into the existing device is not the request's: nothing was sealed.</summary>
    CodeMismatch,

    /// <summary>The request asks for a key other than the one being handed over.</summary>
    WrongKey,

    /// <summary>A device profile made for another device (copied from it): refused, never used or replaced silently.</summary>
    OtherDevice,
}

/// <summary>
/// The one exception the custody code (backup, device handover) throws for input it cannot use. Messages are
/// single lines fit for a command-line tool and never contain a passphrase, key material or file contents.
/// </summary>
public sealed class CustodyException : Exception
{
    public CustodyException(CustodyErrorReason reason, string message) : base(message) => Reason = reason;

    public CustodyException(CustodyErrorReason reason, string message, Exception innerException) : base(message, innerException) =>
        Reason = reason;

    public CustodyErrorReason Reason { get; }
}
