using Mpc.Grains.Sealing;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Mpc.Server.Tests.Hsm;

[Collection("softhsm")]
public sealed class Pkcs11KeyEncryptionKeyProviderTests(SoftHsmFixture hsm)
{
    private static byte[] DataKey() => Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Wrap_unwrap_round_trip_with_a_randomized_wrap()
    {
        using var provider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        Assert.Matches("^pkcs11:mpc-test/mpc-signer-master/[0-9a-f]{16}$", provider.KeyId);

        byte[] a = await provider.WrapAsync(DataKey(), None);
        byte[] b = await provider.WrapAsync(DataKey(), None);
        Assert.Equal(1 + 12 + 32 + 16, a.Length);
        Assert.NotEqual(a, b);
        Assert.Equal(-1, a.AsSpan().IndexOf(DataKey()));
        Assert.Equal(DataKey(), await provider.UnwrapAsync(provider.KeyId, a, None));
        Assert.Equal(DataKey(), await provider.UnwrapAsync(provider.KeyId, b, None));

        // A second provider on the same token and label finds the same key object, and the same KeyId.
        using var second = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(create: false));
        Assert.Equal(provider.KeyId, second.KeyId);
        Assert.Equal(DataKey(), await second.UnwrapAsync(provider.KeyId, a, None));
    }

    [Fact]
    public void Master_key_is_a_sensitive_non_extractable_token_object()
    {
        using var provider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        provider.WithSession((session, key) =>
        {
            List<IObjectAttribute> values = session.GetAttributeValue(key,
            [
                CKA.CKA_TOKEN, CKA.CKA_PRIVATE, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE,
                CKA.CKA_ALWAYS_SENSITIVE, CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_VALUE_LEN, CKA.CKA_KEY_TYPE, CKA.CKA_VALUE,
            ]);
            Assert.True(values[0].GetValueAsBool(), "CKA_TOKEN");
            Assert.True(values[1].GetValueAsBool(), "CKA_PRIVATE");
            Assert.True(values[2].GetValueAsBool(), "CKA_SENSITIVE");
            Assert.False(values[3].GetValueAsBool(), "CKA_EXTRACTABLE");
            Assert.True(values[4].GetValueAsBool(), "CKA_ALWAYS_SENSITIVE");
            Assert.True(values[5].GetValueAsBool(), "CKA_NEVER_EXTRACTABLE");
            Assert.Equal(32UL, values[6].GetValueAsUlong());
            Assert.Equal((ulong)CKK.CKK_AES, values[7].GetValueAsUlong());
            Assert.True(values[8].CannotBeRead, "CKA_VALUE must not be readable");

            // Nor can it be exported wrapped under another key: RFC 5649 wrap (SoftHSM's CKM_AES_KEY_WRAP_PAD)
            // with a session key that may wrap is refused for a non-extractable key.
            var attributes = session.Factories.ObjectAttributeFactory;
            using IMechanism generate = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
            IObjectHandle wrapping = session.GenerateKey(generate,
            [
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                attributes.Create(CKA.CKA_VALUE_LEN, 32UL),
                attributes.Create(CKA.CKA_TOKEN, false),
                attributes.Create(CKA.CKA_WRAP, true),
            ]);
            try
            {
                using IMechanism wrapPad = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP_PAD);
                var ex = Assert.Throws<Pkcs11Exception>(() => session.WrapKey(wrapPad, wrapping, key));
                Assert.Equal(CKR.CKR_KEY_UNEXTRACTABLE, ex.RV);
            }
            finally
            {
                session.DestroyObject(wrapping);
            }
            return 0;
        });
    }

    [Fact]
    public async Task Tampered_wrapped_key_fails()
    {
        using var provider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        byte[] wrapped = await provider.WrapAsync(DataKey(), None);
        foreach (int position in new[] { 0, 1, 12, 13, 30, 44, 45, wrapped.Length - 1 })
        {
            byte[] tampered = (byte[])wrapped.Clone();
            tampered[position] ^= 0x01;
            var ex = await Assert.ThrowsAsync<KeyEncryptionKeyException>(async () => await provider.UnwrapAsync(provider.KeyId, tampered, None));
            Assert.Contains(position == 0 ? "mechanism" : "failed authentication", ex.Message);
        }
        await Assert.ThrowsAsync<KeyEncryptionKeyException>(async () => await provider.UnwrapAsync(provider.KeyId, wrapped.AsMemory(0, 40), None));
        await Assert.ThrowsAsync<KeyEncryptionKeyException>(async () => await provider.UnwrapAsync(provider.KeyId, wrapped.Concat(new byte[1]).ToArray(), None));

        // A failed C_Decrypt leaves the session usable.
        Assert.Equal(DataKey(), await provider.UnwrapAsync(provider.KeyId, wrapped, None));
    }

    [Fact]
    public async Task Unknown_kek_id_fails_with_a_clear_message()
    {
        using var provider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        byte[] wrapped = await provider.WrapAsync(DataKey(), None);
        string hash = provider.KeyId[^16..];
        string[] unknown =
        [
            "file:0000000000000000",
            $"pkcs11:other-token/mpc-signer-master/{hash}",
            $"pkcs11:mpc-test/no-such-label/{hash}",
            "pkcs11:mpc-test/mpc-signer-master/0000000000000000",
            "pkcs11:mpc-test/",
            "pkcs11:mpc-test/mpc-signer-master",
        ];
        foreach (string kekId in unknown)
        {
            var ex = await Assert.ThrowsAsync<KeyEncryptionKeyException>(async () => await provider.UnwrapAsync(kekId, wrapped, None));
            Assert.Contains(kekId, ex.Message);
            Assert.DoesNotContain(Convert.ToHexString(DataKey()), ex.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Wrapped_keys_are_bound_to_their_kek_id()
    {
        // The KEK id is associated data: a wrap relabelled to another (existing) key id fails, even in one token.
        using var current = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        using var other = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(keyLabel: "bound-" + Guid.NewGuid().ToString("N")[..8]));
        byte[] wrapped = await current.WrapAsync(DataKey(), None);
        await Assert.ThrowsAsync<KeyEncryptionKeyException>(async () => await current.UnwrapAsync(other.KeyId, wrapped, None));
        Assert.Equal(DataKey(), await other.UnwrapAsync(current.KeyId, wrapped, None));
    }

    [Fact]
    public async Task Wrong_pin_gives_a_clear_exception()
    {
        // Nobody in this process is logged in to this token: C_Login itself refuses the PIN.
        var ex = Assert.Throws<KeyEncryptionKeyException>(() => new Pkcs11KeyEncryptionKeyProvider(hsm.Options(SoftHsmFixture.PinTestToken, pin: "0000")));
        Assert.Contains("PIN is incorrect", ex.Message);
        Assert.Contains(SoftHsmFixture.PinTestToken, ex.Message);
        Assert.DoesNotContain("0000", ex.Message);

        // Logged in already by another provider: PKCS#11 would not check the PIN again, the provider does.
        using var good = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(SoftHsmFixture.PinTestToken));
        ex = Assert.Throws<KeyEncryptionKeyException>(() => new Pkcs11KeyEncryptionKeyProvider(hsm.Options(SoftHsmFixture.PinTestToken, pin: "0000")));
        Assert.Contains("PIN is incorrect", ex.Message);

        // The failed attempts did not log the good provider out.
        byte[] wrapped = await good.WrapAsync(DataKey(), None);
        Assert.Equal(DataKey(), await good.UnwrapAsync(good.KeyId, wrapped, None));
    }

    [Fact]
    public void Missing_token_or_key_gives_a_clear_exception()
    {
        var ex = Assert.Throws<KeyEncryptionKeyException>(() => new Pkcs11KeyEncryptionKeyProvider(hsm.Options("no-such-token")));
        Assert.Contains("No PKCS#11 token labelled 'no-such-token'", ex.Message);
        Assert.Contains("'mpc-test'", ex.Message);

        ex = Assert.Throws<KeyEncryptionKeyException>(() => new Pkcs11KeyEncryptionKeyProvider(hsm.Options(keyLabel: "never-created", create: false)));
        Assert.Contains("holds no AES key labelled 'never-created'", ex.Message);

        ex = Assert.Throws<KeyEncryptionKeyException>(() => new Pkcs11KeyEncryptionKeyProvider(new Pkcs11Options("/nonexistent/libpkcs11.so", "mpc-test", "5678")));
        Assert.Contains("/nonexistent/libpkcs11.so", ex.Message);
    }

    [Fact]
    public void Options_never_print_the_pin()
    {
        Pkcs11Options options = hsm.Options(pin: "s3cret-pin");
        Assert.DoesNotContain("s3cret-pin", options.ToString());
        Assert.Contains("mpc-test", options.ToString());
    }

    [Fact]
    public async Task Concurrent_wraps_and_unwraps_on_one_provider()
    {
        using var provider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            for (int j = 0; j < 25; j++)
            {
                byte[] key = Enumerable.Range(0, 32).Select(k => (byte)(k + i + j)).ToArray();
                byte[] wrapped = await provider.WrapAsync(key, None);
                Assert.Equal(key, await provider.UnwrapAsync(provider.KeyId, wrapped, None));
            }
        })));
    }

    [Fact]
    public async Task Disposed_provider_refuses_work_and_a_new_one_reloads_the_library()
    {
        var provider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        byte[] wrapped = await provider.WrapAsync(DataKey(), None);
        string kekId = provider.KeyId;
        provider.Dispose();
        provider.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await provider.WrapAsync(DataKey(), None));

        using var again = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(create: false));
        Assert.Equal(DataKey(), await again.UnwrapAsync(kekId, wrapped, None));
    }
}
