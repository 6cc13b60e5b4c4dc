extension FATVolume {
    /// Creates the file at `path` or replaces its content: the old cluster chain is freed, a new
    /// one is allocated in first-free order, the unused tail of the last cluster is zeroed.
    /// Every timestamp of the entry is set to `modified` (unix seconds). The parent directory
    /// must exist. Throws `FATError.noSpace` before changing anything when the data does not fit.
    public func writeFile(_ path: String, _ bytes: [UInt8], modified: UInt32) throws {
        let parts = try components(path)
        guard let name = parts.last else { throw FATError.isADirectory(volume: volumeName, path: "/") }
        guard bytes.count <= Int(UInt32.max) else {
            throw FATError.fileTooLarge(volume: volumeName, path: path, size: bytes.count)
        }
        var parent = try directory(Array(parts.dropLast()))
        let need = (bytes.count + clusterSize - 1) / clusterSize
        if let record = parent.records().first(where: { $0.matches(name) }) {
            guard !record.entry.isDirectory else { throw FATError.isADirectory(volume: volumeName, path: path) }
            let old = try chain(from: record.entry.firstCluster)
            guard need <= freeClusters + old.count else {
                throw FATError.noSpace(volume: volumeName, path: path, need: need, free: freeClusters + old.count)
            }
            release(old)
            let clusters = allocate(need)
            try writeData(bytes, to: clusters)
            var entry = record.entry
            entry.firstCluster = clusters.first ?? 0
            entry.size = UInt32(bytes.count)
            entry.attributes |= FATShortEntry.attrArchive
            entry.setTimes(modified)
            parent.put([entry.encode()], at: record.shortSlot)
        } else {
            let (slot, plan) = try reserveSlots(in: &parent, name: name, path: path, dataClusters: need)
            let clusters = allocate(need)
            try writeData(bytes, to: clusters)
            let entry = FATShortEntry(
                name: plan.name, attributes: FATShortEntry.attrArchive, caseFlags: plan.caseFlags,
                firstCluster: clusters.first ?? 0, size: UInt32(bytes.count), unixSeconds: modified)
            parent.put(entries(for: name, plan: plan, short: entry), at: slot)
        }
        try store(parent)
        try flush()
    }

    /// Creates the directory at `path` and any missing parents (like `mkdir -p`); existing
    /// directories are kept. New directories get `.` and `..` entries stamped `modified`.
    public func makeDirectory(_ path: String, modified: UInt32) throws {
        let parts = try components(path)
        var parent = try rootDirectory()
        for (depth, name) in parts.enumerated() {
            let here = parts[...depth].joined(separator: "/")
            if let record = parent.records().first(where: { $0.matches(name) }) {
                guard record.entry.isDirectory else { throw FATError.notADirectory(volume: volumeName, path: here) }
                parent = try subdirectory(record.entry.firstCluster, path: here)
                continue
            }
            let (slot, plan) = try reserveSlots(in: &parent, name: name, path: here, dataClusters: 1)
            let cluster = allocate(1)[0]
            var bytes = [UInt8](repeating: 0, count: clusterSize)
            let dot = FATShortEntry(
                name: Array(".          ".utf8), attributes: FATShortEntry.attrDirectory, caseFlags: 0,
                firstCluster: cluster, size: 0, unixSeconds: modified)
            var dotdot = dot
            dotdot.name = Array("..         ".utf8)
            dotdot.firstCluster = parent.cluster
            bytes.replaceSubrange(0..<32, with: dot.encode())
            bytes.replaceSubrange(32..<64, with: dotdot.encode())
            try writeClusters(bytes, to: [cluster])
            let entry = FATShortEntry(
                name: plan.name, attributes: FATShortEntry.attrDirectory, caseFlags: plan.caseFlags,
                firstCluster: cluster, size: 0, unixSeconds: modified)
            parent.put(entries(for: name, plan: plan, short: entry), at: slot)
            try store(parent)
            parent = FATDirectory(storage: .clusters([cluster]), bytes: bytes, cluster: cluster, path: here)
        }
        try flush()
    }

    /// Long name entries (when the plan needs them) followed by the short entry.
    private func entries(for name: String, plan: FATShortNamePlan, short: FATShortEntry) -> [[UInt8]] {
        let long = plan.needsLongName ? FATLongName.encode(name, checksum: FATLongName.checksum(plan.name)) : []
        return long + [short.encode()]
    }

    /// Picks the short name for `name`, finds room for its entries in `directory` (growing a
    /// cluster-chained directory as needed) and returns the first slot. Checks up front that the
    /// growth plus `dataClusters` fit, so a failure changes nothing.
    private func reserveSlots(
        in directory: inout FATDirectory, name: String, path: String, dataClusters: Int
    ) throws -> (slot: Int, plan: FATShortNamePlan) {
        if let reason = FATLongName.problem(with: name) {
            throw FATError.invalidName(volume: volumeName, name: name, reason: reason)
        }
        let plan = FATShortName.plan(for: name, isTaken: directory.isShortNameTaken)
        let slots = 1 + (plan.needsLongName ? (name.utf16.count + 12) / 13 : 0)
        if let slot = directory.freeRun(slots) {
            guard dataClusters <= freeClusters else {
                throw FATError.noSpace(volume: volumeName, path: path, need: dataClusters, free: freeClusters)
            }
            return (slot, plan)
        }
        guard case var .clusters(clusters) = directory.storage else {
            throw FATError.rootDirectoryFull(volume: volumeName, path: path, entries: directory.slotCount)
        }
        var probe = directory
        var growth = 0
        while probe.freeRun(slots) == nil {
            guard probe.bytes.count + clusterSize <= 65536 * FATShortEntry.size else {
                throw FATError.directoryFull(volume: volumeName, path: path)
            }
            probe.bytes += [UInt8](repeating: 0, count: clusterSize)
            growth += 1
        }
        guard growth + dataClusters <= freeClusters else {
            throw FATError.noSpace(volume: volumeName, path: path, need: growth + dataClusters, free: freeClusters)
        }
        let added = allocate(growth)
        table[clusters[clusters.count - 1]] = added[0]
        try writeClusters([UInt8](repeating: 0, count: growth * clusterSize), to: added)
        clusters += added
        directory.storage = .clusters(clusters)
        directory.bytes = probe.bytes
        return (probe.freeRun(slots)!, plan)
    }

    /// Marks `clusters` free.
    private func release(_ clusters: [UInt32]) {
        for cluster in clusters { table[cluster] = 0 }
        freeClusters += clusters.count
    }

    /// Allocates and links `count` clusters, lowest free first (the caller checked they exist).
    private func allocate(_ count: Int) -> [UInt32] {
        let clusters = table.firstFree(count)
        precondition(clusters.count == count, "allocate: the caller checks free space first")
        for (cluster, next) in zip(clusters, clusters.dropFirst()) { table[cluster] = next }
        if let last = clusters.last {
            table[last] = kind.endOfChain
            lastAllocated = last
        }
        freeClusters -= count
        return clusters
    }

    /// Writes `bytes` to `clusters`, zero-filling the tail of the last cluster.
    private func writeData(_ bytes: [UInt8], to clusters: [UInt32]) throws {
        guard !clusters.isEmpty else { return }
        let padding = clusters.count * clusterSize - bytes.count
        try writeClusters(bytes + [UInt8](repeating: 0, count: padding), to: clusters)
    }
}
