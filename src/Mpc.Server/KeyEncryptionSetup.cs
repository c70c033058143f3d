using Mpc.Grains.Sealing;

namespace Mpc.Server;

/// <summary>The server's key-encryption (master key) provider, chosen and checked from configuration at start-up.</summary>
internal static class KeyEncryptionSetup
{
    /// <summary>Chooses the KEK provider; configuration errors (no PIN, no token label) are thrown here, at start-up.</summary>
    public static Func<IServiceProvider, IKeyEncryptionKeyProvider> ProviderFactory(MpcServerOptions options, string dataDirectory)
    {
        KeyEncryptionOptions kek = options.KeyEncryption;
        switch (kek.Provider)
        {
            case KeyEncryptionOptions.FileProvider:
                string masterKeyDirectory = options.ResolvedMasterKeyDirectory;
                if (masterKeyDirectory == dataDirectory)
                {
                    throw new ServerStartupException(
                        $"setting Mpc__MasterKeyDirectory='{masterKeyDirectory}' is not allowed: the master key directory must not be the data directory (a copy of the data would then decrypt itself)");
                }
                return _ => new FileKeyEncryptionKeyProvider(masterKeyDirectory);
            case KeyEncryptionOptions.Pkcs11Provider:
                Pkcs11Options pkcs11 = Pkcs11Settings(kek.Pkcs11);
                return _ => new Pkcs11KeyEncryptionKeyProvider(pkcs11);
            default:
                throw new InvalidOperationException(
                    $"Unknown key-encryption provider '{kek.Provider}': use '{KeyEncryptionOptions.FileProvider}' or '{KeyEncryptionOptions.Pkcs11Provider}'.");
        }
    }

    private static Pkcs11Options Pkcs11Settings(Pkcs11ServerOptions settings)
    {
        if (string.IsNullOrEmpty(settings.LibraryPath))
        {
            throw new InvalidOperationException("The pkcs11 key-encryption provider needs the PKCS#11 library path (--pkcs11-library).");
        }
        if (string.IsNullOrEmpty(settings.TokenLabel))
        {
            throw new InvalidOperationException("The pkcs11 key-encryption provider needs the token label (--pkcs11-token).");
        }
        return new Pkcs11Options(settings.LibraryPath, settings.TokenLabel, ReadPin(settings))
        {
            KeyLabel = settings.KeyLabel,
            CreateKeyIfMissing = settings.CreateKeyIfMissing,
        };
    }

    private static string ReadPin(Pkcs11ServerOptions settings)
    {
        if (settings.PinFile is { } pinFile)
        {
            return PinFileAccess.ReadPin(pinFile);
        }
        string? fromEnvironment = Environment.GetEnvironmentVariable(settings.PinEnvironmentVariable);
        if (string.IsNullOrEmpty(fromEnvironment))
        {
            throw new InvalidOperationException(
                $"The pkcs11 key-encryption provider needs the token's user PIN: give a PIN file (--pkcs11-pin-file) or set the environment variable {settings.PinEnvironmentVariable}.");
        }
        return fromEnvironment;
    }
}
