using System.Collections.Concurrent;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Org.BouncyCastle.Math.EC;
using ECParameters = System.Security.Cryptography.ECParameters;

namespace Mpc.Client;

/// <summary>
/// A key as the client holds it: its share (x2), the public key, and the work prepared for the next
/// signature (the randomness of c3 and its proof computed in the background, the server's next nonce commitment).
/// Dispose it when done; persist it with <c>ClientKeyFile</c>.
/// </summary>
public sealed class MpcKey : IDisposable
{
    private readonly ConcurrentQueue<SignCiphertextRandomness> _randomness = new();
    private readonly ConcurrentQueue<byte[]> _commitments = new();
    private readonly int _randomnessTarget;
    private readonly CancellationTokenSource _disposed = new();
    private int _refilling;

    /// <summary>Wraps <paramref name="share"/> (it is disposed with this key) and starts preparing <paramref name="precomputedRandomness"/> signatures' randomness.</summary>
    public MpcKey(ClientKeyShare share, int precomputedRandomness = 2)
    {
        Share = share;
        _randomnessTarget = Math.Max(0, precomputedRandomness);
        Refill();
    }

    /// <summary>The key's id, the same on the server and on every device.</summary>
    public string KeyId => Share.KeyId;

    /// <summary>The key's curve.</summary>
    public CurveKind Curve => Share.Curve;

    /// <summary>The joint public key Q, for the protocol code inside the SDK.</summary>
    internal ECPoint PublicPoint => Share.PublicKey;

    /// <summary>The public key as "BEGIN PUBLIC KEY" PEM.</summary>
    public string PublicKeyPem => PublicKeyEncoding.ToPem(EcCurve.Get(Curve), PublicPoint);

    /// <summary>The public key as X.509 SubjectPublicKeyInfo DER.</summary>
    public byte[] SubjectPublicKeyInfo => PublicKeyEncoding.ToSubjectPublicKeyInfo(EcCurve.Get(Curve), PublicPoint);

    /// <summary>The public key as .NET named-curve parameters (no private part: no party has the private key).</summary>
    public ECParameters ExportParameters()
    {
        ECPoint q = PublicPoint.Normalize();
        return new ECParameters
        {
            Curve = Curve switch
            {
                CurveKind.P256 => System.Security.Cryptography.ECCurve.NamedCurves.nistP256,
                CurveKind.P384 => System.Security.Cryptography.ECCurve.NamedCurves.nistP384,
                _ => System.Security.Cryptography.ECCurve.CreateFromFriendlyName("secp256k1"),
            },
            Q = new System.Security.Cryptography.ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        };
    }

    /// <summary>A platform <see cref="System.Security.Cryptography.ECDsa"/> holding only the public key, to verify signatures. Dispose it.</summary>
    public System.Security.Cryptography.ECDsa CreateVerifier() => System.Security.Cryptography.ECDsa.Create(ExportParameters());

    /// <summary>Whether <paramref name="signature"/> is a valid signature of <paramref name="digest"/> by this key (the project's strict verifier; any s accepted). A digest of another length than 32, 48 or 64 bytes is not valid.</summary>
    public bool VerifyDigest(ReadOnlySpan<byte> digest, MpcSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Curve != Curve || !Digest.TryParse(digest, out Digest? parsed))
        {
            return false;
        }
        EcdsaSignature rs = signature.ToEcdsaSignature();
        return EcCurve.Get(Curve).Verify(PublicPoint, parsed, rs.R, rs.S);
    }

    /// <summary>The client's share. Handle as a secret.</summary>
    public ClientKeyShare Share { get; }

    /// <summary>How many precomputed c3-and-proof randomness values are ready for the next signatures.</summary>
    public int PreparedRandomness => _randomness.Count;

    internal SignCiphertextRandomness? TakeRandomness()
    {
        SignCiphertextRandomness? taken = _randomness.TryDequeue(out SignCiphertextRandomness? value) ? value : null;
        Refill();
        return taken;
    }

    internal byte[]? TakeCommitment() => _commitments.TryDequeue(out byte[]? commitment) ? commitment : null;

    internal void AddCommitment(byte[] commitment)
    {
        // A few spare commitments cover concurrent signers; more would only expire on the server.
        if (_commitments.Count < 8)
        {
            _commitments.Enqueue(commitment);
        }
    }

    /// <summary>
    /// Tops the randomness pool up on a background thread: the exponentiations of c3's randomness and of its proof's
    /// commitments do not depend on the signature, and are most of the client's work. A large pool is refilled once
    /// half of it is used, not after every signature, so a burst of signatures runs without that work beside it
    /// (a pool of 1 or 2 refills after every use, as before). A share made before signing proofs
    /// (<see cref="ClientKeyShare.CanSign"/> false) prepares nothing: it must be refreshed first.
    /// </summary>
    private void Refill()
    {
        int lowWater = _randomnessTarget - Math.Max(1, _randomnessTarget / 2);
        if (!Share.CanSign || _randomness.Count > lowWater || _disposed.IsCancellationRequested || Interlocked.Exchange(ref _refilling, 1) == 1)
        {
            return;
        }
        // A large pool keeps its thread busy for seconds or minutes: on a thread of its own, not one of the thread
        // pool's, where it would hold back the continuations of the caller's I/O (gRPC replies among them) for as long
        // (a load test with 16 keys of 400 each starved its later key generations). Browser WebAssembly has one thread.
        if (OperatingSystem.IsBrowser())
        {
            _ = Task.Run(FillRandomness);
        }
        else
        {
            _ = Task.Factory.StartNew(FillRandomness, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    private void FillRandomness()
    {
        try
        {
            while (_randomness.Count < _randomnessTarget && !_disposed.IsCancellationRequested)
            {
                _randomness.Enqueue(SignCiphertextRandomness.Create(
                    EcCurve.Get(Share.Curve), Share.Paillier, Share.EncryptedServerShare, Share.ServerRingPedersen!));
            }
        }
        finally
        {
            Volatile.Write(ref _refilling, 0);
        }
    }

    /// <summary>Stops the background work and zeroes the share.</summary>
    public void Dispose()
    {
        _disposed.Cancel();
        while (_randomness.TryDequeue(out SignCiphertextRandomness? unused))
        {
            unused.Dispose();
        }
        _commitments.Clear();
        Share.Dispose();
        _disposed.Dispose();
    }

    public override string ToString() => $"MpcKey({KeyId}, {EcCurve.NameOf(Curve)})";
}
