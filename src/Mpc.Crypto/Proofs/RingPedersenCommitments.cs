using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The session-independent half of one Πprm proof: secret masks a_i uniform in [0, φ(N̂)) from the CSPRNG and the
/// commitments A_i = t^{a_i} mod N̂. The server makes them ahead of time with a pooled Paillier key, off the request
/// path; the proof's challenge and responses z_i = a_i + e_i·λ are computed per session. A set is used by at most one
/// proof: <see cref="Take"/> hands it out once and forgets it (two proofs with one set would reveal λ = z_i − z'_i).
/// Held in memory only, never persisted; <see cref="Dispose"/> drops the masks unused.
/// </summary>
public sealed class RingPedersenCommitments : IDisposable
{
    private readonly Lock _gate = new();
    private BigInteger[]? _masks;
    private BigInteger[]? _commitments;

    private RingPedersenCommitments(RingPedersenParameters parameters, BigInteger[] masks, BigInteger[] commitments)
    {
        Parameters = parameters;
        _masks = masks;
        _commitments = commitments;
    }

    /// <summary>The parameters the commitments are for; a proof for other parameters refuses them.</summary>
    public RingPedersenParameters Parameters { get; }

    /// <summary>True once a proof has taken the set (or it was disposed): it can never be used again.</summary>
    public bool IsUsed
    {
        get
        {
            lock (_gate)
            {
                return _masks is null;
            }
        }
    }

    /// <summary>
    /// Fresh masks and their commitments for <paramref name="secret"/>'s parameters (128 CRT exponentiations), on all
    /// cores or, with <paramref name="onCallingThread"/>, on the calling thread only (a low-priority background thread).
    /// </summary>
    public static RingPedersenCommitments Compute(RingPedersenSecret secret, bool onCallingThread = false)
    {
        ArgumentNullException.ThrowIfNull(secret);
        BigInteger[] masks = RingPedersenProof.NewMasks(secret);
        return new RingPedersenCommitments(secret.Parameters, masks, secret.PowCrtMany(secret.Parameters.T, masks, onCallingThread));
    }

    /// <summary>The masks and commitments, exactly once; later calls throw <see cref="InvalidOperationException"/>.</summary>
    internal (BigInteger[] Masks, BigInteger[] Commitments) Take()
    {
        lock (_gate)
        {
            if (_masks is null || _commitments is null)
            {
                throw new InvalidOperationException("These Πprm commitments were already used or discarded.");
            }
            (BigInteger[] masks, BigInteger[] commitments) = (_masks, _commitments);
            _masks = null;
            _commitments = null;
            return (masks, commitments);
        }
    }

    /// <summary>
    /// Forgets an unused set. BouncyCastle integers are immutable and cannot be overwritten; clearing the array drops the
    /// only references, as for every other BigInteger secret in this code.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_masks is not null)
            {
                Array.Clear(_masks);
            }
            _masks = null;
            _commitments = null;
        }
    }

    public override string ToString() => $"RingPedersenCommitments({(IsUsed ? "used" : "unused")})";
}
