using Mpc.Crypto;

namespace Mpc.Protocol;

/// <summary>Where the protocol layer raises its own refusals, in the same <see cref="MpcProtocolException"/> type.</summary>
internal static class ProtocolError
{
    public static MpcProtocolException Unexpected(string message, string state) =>
        new(MpcErrorCode.UnexpectedMessage, $"{message} is not expected now (session is {state}).");

    public static MpcProtocolException SessionMismatch(string what) =>
        new(MpcErrorCode.SessionMismatch, $"{what} belongs to another session.");

    public static MpcProtocolException Malformed(string what) =>
        new(MpcErrorCode.MalformedMessage, $"Malformed message: {what}.");

    public static MpcProtocolException CommitmentMismatch(string what) =>
        new(MpcErrorCode.CommitmentMismatch, $"{what} does not open the earlier commitment.");
}
