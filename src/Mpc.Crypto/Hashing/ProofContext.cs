using Mpc.Crypto.Curves;

namespace Mpc.Crypto.Hashing;

/// <summary>Which side of the two-party protocol speaks. The server is always P1, the client always P2.</summary>
public enum PartyRole : byte
{
    /// <summary>P1: owns the Paillier key, decrypts, verifies the final signature.</summary>
    Server = 1,

    /// <summary>P2: does the homomorphic work on the encrypted share.</summary>
    Client = 2,
}

/// <summary>
/// Everything a proof or commitment is bound to, so it cannot be replayed in another session,
/// by the other party, for another key, on another curve or under another protocol version.
/// </summary>
public sealed record ProofContext
{
    public const uint CurrentProtocolVersion = 1;

    public ProofContext(ReadOnlyMemory<byte> sessionId, PartyRole prover, string keyId, CurveKind curve, uint protocolVersion = CurrentProtocolVersion)
    {
        if (sessionId.Length is < 16 or > 64)
        {
            throw new ArgumentException("Session id must be 16 to 64 bytes.", nameof(sessionId));
        }
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        SessionId = sessionId;
        Prover = prover;
        KeyId = keyId;
        Curve = curve;
        ProtocolVersion = protocolVersion;
    }

    public ReadOnlyMemory<byte> SessionId { get; }

    public PartyRole Prover { get; }

    public string KeyId { get; }

    public CurveKind Curve { get; }

    public uint ProtocolVersion { get; }

    /// <summary>The same context with the other party as prover.</summary>
    public ProofContext ForProver(PartyRole prover) => new(SessionId, prover, KeyId, Curve, ProtocolVersion);
}
