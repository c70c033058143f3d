using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The verifier's trapdoor for its ring-Pedersen parameters: the primes p̂, q̂ (safe when generated, Blum when
/// derived from a Paillier key), φ(N̂) and λ with s = t^λ.
/// Never leaves the party that generated it; needed only to prove the parameters well-formed (Πprm).
/// </summary>
public sealed class RingPedersenSecret : IDisposable
{
    private BigInteger _p;
    private BigInteger _q;
    private BigInteger _phi;
    private BigInteger _lambda;
    private readonly BigInteger _qInverseModP;
    private bool _disposed;

    private RingPedersenSecret(BigInteger p, BigInteger q, BigInteger lambda, BigInteger t, IBigNumBackend backend)
    {
        _p = p;
        _q = q;
        _phi = p.Subtract(BigInteger.One).Multiply(q.Subtract(BigInteger.One));
        _lambda = lambda;
        _qInverseModP = q.ModInverse(p);
        Backend = backend;
        BigInteger n = p.Multiply(q);
        Parameters = new RingPedersenParameters(n, PowCrt(t, lambda), t);
    }

    public RingPedersenParameters Parameters { get; }

    public IBigNumBackend Backend { get; }

    internal BigInteger P => Live(_p);

    internal BigInteger Q => Live(_q);

    /// <summary>φ(N̂) = (p̂-1)(q̂-1).</summary>
    internal BigInteger Phi => Live(_phi);

    /// <summary>λ with s = t^λ mod N̂.</summary>
    internal BigInteger Lambda => Live(_lambda);

    /// <summary>
    /// Generates N̂ = p̂·q̂ from two safe primes of <paramref name="modulusBits"/>/2 bits, t = τ² for a random unit τ,
    /// and s = t^λ for λ uniform in [0, φ(N̂)).
    /// </summary>
    public static RingPedersenSecret Generate(IBigNumBackend backend, int modulusBits = ProofParameters.RingPedersenMinimumBits)
    {
        if (modulusBits < ProofParameters.RingPedersenMinimumBits || modulusBits > ProofParameters.RingPedersenMaximumBits || modulusBits % 2 != 0)
        {
            throw Error.Of(MpcErrorCode.InvalidRingPedersenParameters,
                $"Ring-Pedersen modulus size must be even and between {ProofParameters.RingPedersenMinimumBits} and {ProofParameters.RingPedersenMaximumBits} bits.");
        }
        return GenerateUnchecked(backend, modulusBits);
    }

    /// <summary>Any size: tests use it to build parameters that verification must refuse.</summary>
    internal static RingPedersenSecret GenerateUnchecked(IBigNumBackend backend, int modulusBits)
    {
        ArgumentNullException.ThrowIfNull(backend);
        int primeBits = modulusBits / 2;
        while (true)
        {
            // Each search takes a second or so and runs on every core (the backend's GenerateSafePrimes).
            BigInteger[] primes = backend.GenerateSafePrimes(primeBits, 2);
            BigInteger p = primes[0], q = primes[1];
            BigInteger n = p.Multiply(q);
            if (p.Equals(q) || n.BitLength != modulusBits)
            {
                continue;
            }
            BigInteger tau = PaillierPublicKey.RandomUnit(n);
            BigInteger t = tau.Multiply(tau).Mod(n);
            BigInteger phi = p.Subtract(BigInteger.One).Multiply(q.Subtract(BigInteger.One));
            BigInteger lambda = ProofRandom.Below(phi);
            var secret = new RingPedersenSecret(p, q, lambda, t, backend);
            if (IsWellShaped(secret.Parameters))
            {
                return secret;
            }
            secret.Dispose();
        }
    }

    /// <summary>HKDF info prefix of the parameters derived from a Paillier key; a new version gets a new string.</summary>
    internal const string DerivationLabel = "mpc-signer/ring-pedersen/v1";

    /// <summary>
    /// The server's ring-Pedersen parameters over its own Paillier modulus (N̂ = N, a Paillier–Blum modulus: the c3
    /// proof's verifier is the Paillier key owner). τ and λ come deterministically from the primes through
    /// HKDF-SHA-512, so nothing new is stored and every activation derives the same (s, t) = (t^λ, τ²).
    /// Πprm needs neither safe primes nor anything but φ(N̂) and λ, so the Blum primes serve as they are.
    /// </summary>
    public static RingPedersenSecret DeriveFromPaillier(PaillierPrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        (BigInteger t, BigInteger lambda) = DeriveTrapdoor(key);
        return new RingPedersenSecret(key.P, key.Q, lambda, t, key.PublicKey.Backend);
    }

    /// <summary>
    /// t = τ² mod N and λ ∈ [0, φ(N)) of <see cref="DeriveFromPaillier"/>, without computing s (one exponentiation):
    /// the c3 proof verifier needs only λ to turn s^z·t^z' into t^(λz+z').
    /// </summary>
    internal static (BigInteger T, BigInteger Lambda) DeriveTrapdoor(PaillierPrivateKey key)
    {
        BigInteger p = key.P, q = key.Q, n = key.PublicKey.N;
        BigInteger phi = key.Phi;
        IBigNumBackend backend = key.PublicKey.Backend;
        byte[] inputKey = new WireWriter().WriteBigInteger(p).WriteBigInteger(q).ToArray();
        byte[] prk = new byte[64];
        try
        {
            System.Security.Cryptography.HKDF.Extract(System.Security.Cryptography.HashAlgorithmName.SHA512, inputKey, [], prk);
            for (uint attempt = 0; ; attempt++)
            {
                // The reductions go through the backend: the verifier derives λ on every check, and φ(N) is secret.
                BigInteger tau = backend.ModMultiply(Expand(prk, "tau", n, attempt), BigInteger.One, n);
                BigInteger t = backend.ModMultiply(tau, tau, n);
                BigInteger lambda = backend.ModMultiply(Expand(prk, "lambda", n, attempt), BigInteger.One, phi);
                // Fails with probability about 2^-1000; the counter keeps the derivation deterministic anyway.
                // τ not a unit would factor N; Validate (before every Πprm proof) checks that s and t are units anyway.
                if (t.CompareTo(BigInteger.Two) >= 0 && t.CompareTo(n.Subtract(BigInteger.Two)) <= 0 && lambda.SignValue > 0)
                {
                    return (t, lambda);
                }
            }
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(inputKey);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(prk);
        }
    }

    /// <summary>|N| + 128 bits of HKDF-Expand output for one named value, so the reduction bias is below 2^-128.</summary>
    private static BigInteger Expand(byte[] prk, string name, BigInteger n, uint attempt)
    {
        byte[] info = new WireWriter().WriteString(DerivationLabel).WriteString(name).WriteBigInteger(n).WriteUInt32(attempt).ToArray();
        byte[] output = new byte[(n.BitLength + 128 + 7) / 8];
        try
        {
            System.Security.Cryptography.HKDF.Expand(System.Security.Cryptography.HashAlgorithmName.SHA512, prk, output, info);
            return new BigInteger(1, output);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(output);
        }
    }

    /// <summary>
    /// For the verifier's checks modulo one of its own primes (docs/protocol.md, "The device checks … modulo one of its
    /// primes"): values[i]^exponents[i] mod p̂ in one batch, for values that are units mod N̂ and any integer exponents
    /// (signed, or containing λ). Each exponent is reduced mod p̂ − 1 after adding a multiple of p̂ − 1, so no branch
    /// depends on its sign and every power is full length (libcrypto pairs them).
    /// </summary>
    internal BigInteger[] PowsModP(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents)
    {
        BigInteger p = P;
        BigInteger pMinus1 = p.Subtract(BigInteger.One);
        BigInteger[] reduced = [.. exponents.Select(e => ProofMath.ReduceExponent(Backend, e, pMinus1))];
        return Backend.ModPowMany(values, reduced, p);
    }

    /// <summary>Refuses a verifier secret handed in for parameters other than its own (a caller's mistake, not input).</summary>
    internal void RequireParameters(RingPedersenParameters parameters, string parameterName)
    {
        if (!Parameters.Equals(parameters))
        {
            throw new ArgumentException("The verifier's secret belongs to other parameters.", parameterName);
        }
    }

    /// <summary>left·right mod p̂ for non-negative values: the other half of <see cref="PowsModP"/>'s checks.</summary>
    internal BigInteger MultiplyModP(BigInteger left, BigInteger right) => Backend.ModMultiply(left, right, P);

    /// <summary>The exponent of t in s^a·t^b (= t^(λa + b), as s = t^λ).</summary>
    internal BigInteger CommitmentExponent(BigInteger sExponent, BigInteger tExponent) => Lambda.Multiply(sExponent).Add(tExponent);

    /// <summary>base^exponent mod N̂ for exponent ≥ 0, through the CRT (the exponent is reduced mod p̂-1 and q̂-1).</summary>
    internal BigInteger PowCrt(BigInteger value, BigInteger exponent)
    {
        BigInteger p = P, q = Q;
        BigInteger xp = Backend.ModPow(value, Backend.ModMultiply(exponent, BigInteger.One, p.Subtract(BigInteger.One)), p);
        BigInteger xq = Backend.ModPow(value, Backend.ModMultiply(exponent, BigInteger.One, q.Subtract(BigInteger.One)), q);
        return ProofMath.Crt(Backend, xp, p, xq, q, _qInverseModP);
    }

    /// <summary>
    /// value^exponents[i] mod N̂ for every i (exponents ≥ 0) through the CRT, on all cores (or, with
    /// <paramref name="onCallingThread"/>, on the calling thread only: background work at a low priority must not
    /// hand its powers to the thread pool's normal-priority threads): each half is one batch of constant-time backend
    /// powers against one prime (one Montgomery set-up per prime and core).
    /// </summary>
    internal BigInteger[] PowCrtMany(BigInteger value, IReadOnlyList<BigInteger> exponents, bool onCallingThread = false)
    {
        BigInteger p = P, q = Q;
        BigInteger pMinus1 = p.Subtract(BigInteger.One), qMinus1 = q.Subtract(BigInteger.One);
        // Every reduction (the base and the exponents modulo the secret primes and p̂ − 1, q̂ − 1) runs in the backend:
        // BouncyCastle's remainder is bit by bit and took more time than the powers themselves.
        BigInteger[] valueModP = Enumerable.Repeat(Backend.ModMultiply(value, BigInteger.One, p), exponents.Count).ToArray();
        BigInteger[] valueModQ = Enumerable.Repeat(Backend.ModMultiply(value, BigInteger.One, q), exponents.Count).ToArray();
        BigInteger[] exponentsModP = [.. exponents.Select(e => Backend.ModMultiply(e, BigInteger.One, pMinus1))];
        BigInteger[] exponentsModQ = [.. exponents.Select(e => Backend.ModMultiply(e, BigInteger.One, qMinus1))];
        BigInteger[] xp = onCallingThread ? Backend.ModPowMany(valueModP, exponentsModP, p) : ProofParallel.ModPowMany(Backend, valueModP, exponentsModP, p);
        BigInteger[] xq = onCallingThread ? Backend.ModPowMany(valueModQ, exponentsModQ, q) : ProofParallel.ModPowMany(Backend, valueModQ, exponentsModQ, q);
        var results = new BigInteger[exponents.Count];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = ProofMath.Crt(Backend, xp[i], p, xq[i], q, _qInverseModP);
        }
        return results;
    }

    /// <summary>Version of <see cref="ExportSecret"/>'s layout; a new layout gets a new number.</summary>
    private const uint ExportVersion = 1;

    /// <summary>
    /// The secret as bytes (u32 version, N̂, s, t, p̂, q̂, λ framed by <see cref="WireWriter"/>), for the device profile
    /// that keeps one device's parameters sealed between processes. The caller seals them and zeroes the array.
    /// </summary>
    public byte[] ExportSecret() =>
        WireWriter.ToSecretArray(writer => writer.WriteUInt32(ExportVersion)
            .WriteBigInteger(Parameters.N).WriteBigInteger(Parameters.S).WriteBigInteger(Parameters.T)
            .WriteBigInteger(P).WriteBigInteger(Q).WriteBigInteger(Lambda));

    /// <summary>
    /// Reads <see cref="ExportSecret"/>'s bytes and checks them before anything uses them: N̂ = p̂·q̂ with p̂ ≠ q̂ odd,
    /// the public shape (<see cref="RingPedersenParameters.Validate"/>), λ ∈ [1, φ(N̂)), and s = t^λ both directly
    /// mod N̂ and through the CRT (which agree only when p̂ and q̂ are prime, short of a prime test).
    /// Throws <see cref="MpcErrorCode.InvalidRingPedersenParameters"/> otherwise.
    /// </summary>
    public static RingPedersenSecret ImportSecret(ReadOnlySpan<byte> secret, IBigNumBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        const int maxBits = ProofParameters.RingPedersenMaximumBits;
        BigInteger n, s, t, p, q, lambda;
        var reader = new WireReader(secret);
        if (reader.ReadUInt32("ring-Pedersen secret version") != ExportVersion)
        {
            throw Error.Of(MpcErrorCode.InvalidRingPedersenParameters, "Ring-Pedersen secret has an unknown layout version.");
        }
        n = reader.ReadBigInteger("ring-Pedersen N̂", maxBits);
        s = reader.ReadBigInteger("ring-Pedersen s", maxBits);
        t = reader.ReadBigInteger("ring-Pedersen t", maxBits);
        p = reader.ReadBigInteger("ring-Pedersen p̂", maxBits);
        q = reader.ReadBigInteger("ring-Pedersen q̂", maxBits);
        lambda = reader.ReadBigInteger("ring-Pedersen λ", maxBits);
        reader.EnsureEnd("ring-Pedersen secret");

        var stated = new RingPedersenParameters(n, s, t);
        stated.Validate();
        if (p.CompareTo(BigInteger.Two) <= 0 || q.CompareTo(BigInteger.Two) <= 0 || !p.TestBit(0) || !q.TestBit(0)
            || p.Equals(q) || !p.Multiply(q).Equals(n) || !p.Gcd(q).Equals(BigInteger.One))
        {
            throw Error.Of(MpcErrorCode.InvalidRingPedersenParameters, "Ring-Pedersen secret rejected: its primes do not make N̂.");
        }
        BigInteger phi = p.Subtract(BigInteger.One).Multiply(q.Subtract(BigInteger.One));
        if (lambda.SignValue <= 0 || lambda.CompareTo(phi) >= 0)
        {
            throw Error.Of(MpcErrorCode.InvalidRingPedersenParameters, "Ring-Pedersen secret rejected: λ is outside [1, φ(N̂)).");
        }
        // The constructor computes s = t^λ through the CRT; the stored s must equal it and the direct power.
        var imported = new RingPedersenSecret(p, q, lambda, t, backend);
        if (!imported.Parameters.Equals(stated) || !backend.ModPow(t, lambda, n).Equals(s))
        {
            imported.Dispose();
            throw Error.Of(MpcErrorCode.InvalidRingPedersenParameters, "Ring-Pedersen secret rejected: s is not t^λ.");
        }
        return imported;
    }

    public void Dispose()
    {
        _p = BigInteger.Zero;
        _q = BigInteger.Zero;
        _phi = BigInteger.Zero;
        _lambda = BigInteger.Zero;
        _disposed = true;
    }

    public override string ToString() => $"RingPedersenSecret({Parameters.N.BitLength} bits)";

    private static bool IsWellShaped(RingPedersenParameters parameters)
    {
        BigInteger upper = parameters.N.Subtract(BigInteger.Two);
        return parameters.S.CompareTo(BigInteger.Two) >= 0 && parameters.S.CompareTo(upper) <= 0
            && parameters.T.CompareTo(BigInteger.Two) >= 0 && parameters.T.CompareTo(upper) <= 0
            && !parameters.S.Equals(parameters.T);
    }

    private BigInteger Live(BigInteger value) =>
        _disposed ? throw new ObjectDisposedException(nameof(RingPedersenSecret)) : value;
}
