using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Mpc.Server.Host.Tests.Cluster;

/// <summary>
/// Cuts a silo off from the membership table: while <see cref="Cut"/>, every call of that silo's table fails as an
/// unreachable table would. A silo cut off cannot read that another silo declared it dead, whatever started its refresh
/// (its own timer, a peer asking it to refresh), since the refresh reads the table; so its activations stay the ones
/// it made. Only table reads were seen to tell a silo; a snapshot applied without one would not be cut off here.
/// </summary>
internal sealed class MembershipTablePartition
{
    private volatile bool _cut;

    public bool Cut
    {
        get => _cut;
        set => _cut = value;
    }

    /// <summary>Puts the membership table <paramref name="silo"/> registered behind this partition.</summary>
    public void Wrap(ISiloBuilder silo)
    {
        ServiceDescriptor registered = silo.Services.Last(d => d.ServiceType == typeof(IMembershipTable));
        silo.Services.Remove(registered);
        silo.Services.AddSingleton<IMembershipTable>(services => new PartitionedTable(this, registered switch
        {
            { ImplementationInstance: IMembershipTable instance } => instance,
            { ImplementationFactory: { } factory } => (IMembershipTable)factory(services),
            _ => (IMembershipTable)ActivatorUtilities.CreateInstance(services, registered.ImplementationType!),
        }));
    }

    private sealed class PartitionedTable(MembershipTablePartition partition, IMembershipTable table) : IMembershipTable
    {
        public Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken = default) =>
            table.InitializeMembershipTableAsync(tryInitTableVersion, cancellationToken);

        public Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken = default) =>
            Reachable().DeleteMembershipTableEntriesAsync(clusterId, cancellationToken);

        public Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default) =>
            Reachable().CleanupDefunctSiloEntriesAsync(beforeDate, cancellationToken);

        public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken = default) =>
            Reachable().ReadRowAsync(key, cancellationToken);

        public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default) => Reachable().ReadAllAsync(cancellationToken);

        public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default) =>
            Reachable().InsertRowAsync(entry, tableVersion, cancellationToken);

        public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default) =>
            Reachable().UpdateRowAsync(entry, etag, tableVersion, cancellationToken);

        public Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default) =>
            Reachable().UpdateIAmAliveAsync(entry, cancellationToken);

        // The interface's older members, which Orleans 10 still declares: each goes through its replacement above.
        [Obsolete("Use InitializeMembershipTableAsync instead.")]
        public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion);

        [Obsolete("Use DeleteMembershipTableEntriesAsync instead.")]
        public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId);

        [Obsolete("Use CleanupDefunctSiloEntriesAsync instead.")]
        public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate);

        [Obsolete("Use ReadRowAsync instead.")]
        public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key);

        [Obsolete("Use ReadAllAsync instead.")]
        public Task<MembershipTableData> ReadAll() => ReadAllAsync();

        [Obsolete("Use InsertRowAsync instead.")]
        public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion);

        [Obsolete("Use UpdateRowAsync instead.")]
        public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion);

        [Obsolete("Use UpdateIAmAliveAsync instead.")]
        public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry);

        private IMembershipTable Reachable() =>
            partition.Cut ? throw new TimeoutException("test partition: this silo cannot reach the membership table") : table;
    }
}
