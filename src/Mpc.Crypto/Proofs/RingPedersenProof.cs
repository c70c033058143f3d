using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Πprm (CGGMP21, fig. 17): the ring-Pedersen parameters are well formed, i.e. s ∈ ⟨t⟩ mod N̂. Proved by the
/// party that generated the parameters (the client, P2) to the party that will prove statements against them.
/// <see cref="ProofParameters.BinaryChallengeRounds"/> rounds of a binary challenge: soundness error 2^-128.
/// </summary>
public sealed class RingPedersenProof
{
    public const string Name = "Πprm";
    private const string Purpose = "ring-pedersen-parameters/Πprm";

    public RingPedersenProof(IReadOnlyList<BigInteger> commitments, IReadOnlyList<BigInteger> responses)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        ArgumentNullException.ThrowIfNull(responses);
        Commitments = [.. commitments];
        Responses = [.. responses];
    }

    /// <summary>A_i = t^{a_i} mod N̂.</summary>
    public IReadOnlyList<BigInteger> Commitments { get; }

    /// <summary>z_i = a_i + e_i·λ mod φ(N̂).</summary>
    public IReadOnlyList<BigInteger> Responses { get; }

    /// <summary>
    /// Proves <paramref name="secret"/>'s parameters well formed in <paramref name="context"/>. With
    /// <paramref name="precomputed"/> (masks and commitments made ahead for these parameters, see
    /// <see cref="RingPedersenCommitments"/>) they are taken and so used up here; without, they are computed inline.
    /// </summary>
    public static RingPedersenProof Prove(RingPedersenSecret secret, ProofContext context, RingPedersenCommitments? precomputed = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(context);
        secret.Parameters.Validate();
        return ProveCore(secret, context, precomputed);
    }

    /// <summary>The prover's algorithm without the parameter checks: tests use it on parameters verification must refuse.</summary>
    internal static RingPedersenProof ProveCore(RingPedersenSecret secret, ProofContext context, RingPedersenCommitments? precomputed = null)
    {
        RingPedersenParameters parameters = secret.Parameters;
        int m = ProofParameters.BinaryChallengeRounds;
        BigInteger phi = secret.Phi;
        BigInteger lambda = secret.Lambda;
        BigInteger[] masks, commitments;
        if (precomputed is null)
        {
            masks = NewMasks(secret);
            // The commitments are independent CRT exponentiations: all cores.
            commitments = secret.PowCrtMany(parameters.T, masks);
        }
        else if (!precomputed.Parameters.Equals(parameters))
        {
            throw new ArgumentException("The precomputed Πprm commitments are for other parameters.", nameof(precomputed));
        }
        else
        {
            (masks, commitments) = precomputed.Take();
        }
        bool[] e = Challenge(parameters, commitments, context);
        var responses = new BigInteger[m];
        for (int i = 0; i < m; i++)
        {
            // Both branches cost the same big-number work; e_i is public anyway.
            BigInteger withLambda = masks[i].Add(lambda).Mod(phi);
            responses[i] = e[i] ? withLambda : masks[i];
        }
        Array.Clear(masks);
        return new RingPedersenProof(commitments, responses);
    }

    /// <summary>Fresh masks a_i uniform in [0, φ(N̂)) from the CSPRNG, one per round.</summary>
    internal static BigInteger[] NewMasks(RingPedersenSecret secret)
    {
        BigInteger phi = secret.Phi;
        var masks = new BigInteger[ProofParameters.BinaryChallengeRounds];
        for (int i = 0; i < masks.Length; i++)
        {
            masks[i] = ProofRandom.Below(phi);
        }
        return masks;
    }

    /// <summary>Verifies the proof for <paramref name="parameters"/>; throws <see cref="MpcProtocolException"/> on any failure.</summary>
    public void Verify(RingPedersenParameters parameters, ProofContext context, IBigNumBackend backend)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(backend);
        parameters.Validate();
        int m = ProofParameters.BinaryChallengeRounds;
        if (Commitments.Count != m || Responses.Count != m)
        {
            throw Error.ProofFailed(Name, $"round count is not {m}");
        }
        BigInteger n = parameters.N;
        for (int i = 0; i < m; i++)
        {
            if (!ProofMath.IsUnitBelow(Commitments[i], n))
            {
                throw Error.ProofFailed(Name, $"A[{i}] is not a unit in [1, N̂)");
            }
            if (Responses[i].SignValue < 0 || Responses[i].CompareTo(n) >= 0)
            {
                throw Error.ProofFailed(Name, $"z[{i}] is outside [0, N̂)");
            }
        }
        bool[] e = Challenge(parameters, Commitments, context);
        // Not batched: s ∈ ⟨t⟩ is a statement about a group in which the prover may have planted elements of small
        // order, and a random linear combination does not catch those (docs/protocol.md). Each round is checked
        // exactly; the rounds are independent, so they run on all cores and the lowest failing round is reported.
        // Every value here is public (t and the responses are in the proof), so one fixed-base table for t serves all
        // 128 powers: about a sixth of the multiplications of 128 full exponentiations (docs/protocol.md).
        BigInteger[] lefts = ProofParallel.PublicFixedBasePowMany(backend, parameters.T, Responses, n);
        int failed = ProofParallel.FirstFailure(m, i =>
        {
            BigInteger right = e[i] ? backend.ModMultiply(Commitments[i], parameters.S, n) : Commitments[i];
            return lefts[i].Equals(right);
        });
        if (failed >= 0)
        {
            throw Error.ProofFailed(Name, $"t^z[{failed}] ≠ A[{failed}]·s^e[{failed}]");
        }
    }

    public void WriteTo(WireWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteList(Commitments, static (ww, a) => ww.WriteBigInteger(a));
        w.WriteList(Responses, static (ww, z) => ww.WriteBigInteger(z));
    }

    /// <summary>Reads exactly <see cref="ProofParameters.BinaryChallengeRounds"/> rounds of integers of at most <paramref name="maxBits"/> bits.</summary>
    public static RingPedersenProof ReadFrom(ref WireReader r, int maxBits = ProofParameters.RingPedersenMaximumBits)
    {
        IReadOnlyList<BigInteger> commitments = r.ReadList(
            "Πprm A", ProofParameters.BinaryChallengeRounds, (ref WireReader rr) => rr.ReadBigInteger("Πprm A", maxBits));
        IReadOnlyList<BigInteger> responses = r.ReadList(
            "Πprm z", ProofParameters.BinaryChallengeRounds, (ref WireReader rr) => rr.ReadBigInteger("Πprm z", maxBits));
        return new RingPedersenProof(commitments, responses);
    }

    public override string ToString() => $"RingPedersenProof({Commitments.Count} rounds)";

    private static bool[] Challenge(RingPedersenParameters parameters, IReadOnlyList<BigInteger> commitments, ProofContext context)
    {
        Transcript transcript = Transcript.Start(Purpose, context)
            .Append("Πprm/N", parameters.N)
            .Append("Πprm/s", parameters.S)
            .Append("Πprm/t", parameters.T)
            .Append("Πprm/rounds", (uint)commitments.Count);
        foreach (BigInteger a in commitments)
        {
            transcript.Append("Πprm/A", a);
        }
        return transcript.ChallengeBits("Πprm/e", commitments.Count);
    }
}
