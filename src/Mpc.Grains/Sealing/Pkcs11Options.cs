using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Sealing;

/// <summary>Where the PKCS#11 master key lives and how to log in to its token.</summary>
/// <param name="LibraryPath">The PKCS#11 module, e.g. <c>/usr/lib/softhsm/libsofthsm2.so</c>.</param>
/// <param name="TokenLabel">The label of the token holding the master key.</param>
/// <param name="Pin">The token's user PIN. Never logged: <see cref="ToString"/> leaves it out.</param>
public sealed record Pkcs11Options(string LibraryPath, string TokenLabel, string Pin)
{
    public const string DefaultKeyLabel = "mpc-signer-master";

    /// <summary>The label (CKA_LABEL) of the current master key; new data keys are wrapped under it.</summary>
    public string KeyLabel { get; init; } = DefaultKeyLabel;

    /// <summary>Generate the master key inside the token if no key carries <see cref="KeyLabel"/> (first set-up, tests).</summary>
    public bool CreateKeyIfMissing { get; init; }

    /// <summary>Everything but the PIN.</summary>
    public override string ToString() =>
        $"Pkcs11Options {{ LibraryPath = {LibraryPath}, TokenLabel = {TokenLabel}, KeyLabel = {KeyLabel}, CreateKeyIfMissing = {CreateKeyIfMissing}, Pin = *** }}";
}
