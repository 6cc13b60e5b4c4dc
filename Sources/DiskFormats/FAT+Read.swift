extension FATVolume {
    /// Splits "overlays/foo.dtbo" (leading, trailing and doubled slashes ignored).
    func components(_ path: String) throws -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        for part in parts where part == "." || part == ".." {
            throw FATError.invalidName(volume: volumeName, name: path, reason: "'.' and '..' are not allowed in paths")
        }
        return parts
    }

    /// The directory at `parts` (the root for an empty list).
    func directory(_ parts: [String]) throws -> FATDirectory {
        var directory = try rootDirectory()
        for (depth, part) in parts.enumerated() {
            let path = parts[...depth].joined(separator: "/")
            guard let record = directory.records().first(where: { $0.matches(part) }) else {
                throw FATError.notFound(volume: volumeName, path: path)
            }
            guard record.entry.isDirectory else { throw FATError.notADirectory(volume: volumeName, path: path) }
            directory = try subdirectory(record.entry.firstCluster, path: path)
        }
        return directory
    }

    /// The directory whose chain starts at `cluster` (0 is the root, as `..` entries say).
    func subdirectory(_ cluster: UInt32, path: String) throws -> FATDirectory {
        if cluster == 0 { return try rootDirectory() }
        let clusters = try chain(from: cluster)
        return FATDirectory(storage: .clusters(clusters), bytes: try readClusters(clusters), cluster: cluster, path: path)
    }

    /// The contents of the file at `path`, or nil when nothing has that name. Throws when the
    /// path names a directory or a parent is missing.
    public func readFile(_ path: String) throws -> [UInt8]? {
        let parts = try components(path)
        guard let name = parts.last else { throw FATError.isADirectory(volume: volumeName, path: "/") }
        let parent: FATDirectory
        do {
            parent = try directory(Array(parts.dropLast()))
        } catch FATError.notFound {
            return nil
        }
        guard let record = parent.records().first(where: { $0.matches(name) }) else { return nil }
        guard !record.entry.isDirectory else { throw FATError.isADirectory(volume: volumeName, path: path) }
        let clusters = try chain(from: record.entry.firstCluster)
        let size = Int(record.entry.size)
        guard clusters.count * clusterSize >= size else {
            throw FATError.corruptFile(
                volume: volumeName, path: path,
                reason: "size \(size) bytes but only \(clusters.count) clusters of \(clusterSize) bytes")
        }
        let needed = (size + clusterSize - 1) / clusterSize
        return Array(try readClusters(Array(clusters.prefix(needed))).prefix(size))
    }

    /// The entries of the directory at `path` ("" or "/" for the root), in directory order,
    /// without `.`, `..` and the volume label.
    public func list(_ path: String) throws -> [FATDirectoryEntry] {
        try directory(components(path)).records().map(\.publicEntry)
    }
}
