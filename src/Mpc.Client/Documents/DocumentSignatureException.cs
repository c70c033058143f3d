namespace Mpc.Client.Documents;

/// <summary>
/// A document signature could not be made or does not verify. The message is one line, names no secret,
/// and is meant for the person who asked (for example "The document does not match the signature.").
/// </summary>
public sealed class DocumentSignatureException : Exception
{
    public DocumentSignatureException()
    {
    }

    public DocumentSignatureException(string message) : base(message)
    {
    }

    public DocumentSignatureException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
