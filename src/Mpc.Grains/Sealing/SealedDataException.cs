using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Sealing;

/// <summary>
/// A sealed blob could not be opened: malformed, tampered with, sealed for another context, or wrapped
/// under a KEK this provider does not have. Messages name what failed, never a secret byte.
/// </summary>
public sealed class SealedDataException : Exception
{
    public SealedDataException(string message) : base(message)
    {
    }

    public SealedDataException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
