using System.Diagnostics.CodeAnalysis;
using Mpc.Grains.Abstractions;

namespace Mpc.Grains;

/// <summary>
/// What one activation knows about key status beyond what storage holds: the final checks it saw finish, and the
/// freezes it made that are not stored yet. <see cref="KeyStatusRecord"/> consults it on every gate decision.
/// </summary>
internal sealed class ActivationStatusMemory
{
    /// <summary>Check ids of markers this activation wrote whose check ended without a failed verification.</summary>
    private readonly HashSet<string> _finishedChecks = new(StringComparer.Ordinal);

    /// <summary>Freezes made in this activation and not yet in storage (the marker there keeps them anyway).</summary>
    private readonly Dictionary<string, KeyStatusEntry> _unpersistedFreezes = new(StringComparer.Ordinal);

    public bool IsFinished(string checkId) => _finishedChecks.Contains(checkId);

    public void Finished(string checkId) => _finishedChecks.Add(checkId);

    public bool IsFinishedMarker(KeyStatusEntry entry) => entry.PendingCheck is { } p && _finishedChecks.Contains(p.CheckId);

    public bool TryGetUnpersistedFreeze(string keyId, [NotNullWhen(true)] out KeyStatusEntry? facts) => _unpersistedFreezes.TryGetValue(keyId, out facts);

    public void FrozeUnpersisted(string keyId, KeyStatusEntry facts) => _unpersistedFreezes[keyId] = facts;

    public bool ForgetFreeze(string keyId, out KeyStatusEntry? facts) => _unpersistedFreezes.Remove(keyId, out facts);

    public IEnumerable<KeyValuePair<string, KeyStatusEntry>> UnpersistedFreezes => _unpersistedFreezes;

    /// <summary>After a successful write memory and storage agree: stored freezes and ids of markers no longer stored are dropped.</summary>
    public void Stored(KeyStatusState stored)
    {
        foreach (string keyId in _unpersistedFreezes.Keys.Where(k => stored.Keys.TryGetValue(k, out KeyStatusEntry? e) && e.Status == KeyStatus.Frozen).ToList())
        {
            _unpersistedFreezes.Remove(keyId);
        }
        HashSet<string> markers = [.. stored.Keys.Values.Select(e => e.PendingCheck?.CheckId).OfType<string>()];
        _finishedChecks.RemoveWhere(id => !markers.Contains(id));
    }
}
