import Foundation

extension HDF5File {
    /// Writes a new file at `url` so that a crash or kill at any moment leaves either the old
    /// file or the complete new one there, never a partial file.
    ///
    /// `body` fills a temporary file in the same folder (`.NAME.tmp-PID`); it is then flushed,
    /// closed, synced to disk (`fsync`) and renamed over `url` (`rename(2)` is atomic within a
    /// folder), and the folder is synced so the rename survives a power loss where the file
    /// system allows it. If `body` or any step throws, the temporary file is removed and the old
    /// file is untouched. Errors from `body` are rethrown as they are; the steps here throw
    /// `HDF5Error`. A process killed mid-write leaves its temporary file behind: callers
    /// that own the folder may remove stale `.NAME.tmp-*` files.
    public static func writeAtomically(to url: URL, _ body: (HDF5File) throws -> Void) throws {
        let target = url.standardizedFileURL
        let folder = target.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        do {
            let file = try HDF5File.create(at: temporary)
            do {
                try body(file)
                try file.flush()
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
            try syncToDisk(temporary.path)
            guard rename(temporary.path, target.path) == 0 else {
                throw HDF5Error.io(file: target.path, operation: "rename \(temporary.lastPathComponent) over it",
                                         detail: lastSystemError())
            }
        } catch {
            unlink(temporary.path)
            throw error
        }
        // Best effort: some file systems cannot sync a folder; the new file is in place either way.
        try? syncToDisk(folder.path)
    }
}

/// Writes the file's (or folder's) data and metadata to the disk.
private func syncToDisk(_ path: String) throws(HDF5Error) {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw .io(file: path, operation: "open for fsync", detail: lastSystemError()) }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw .io(file: path, operation: "fsync", detail: lastSystemError()) }
}

/// The message of the current `errno`.
private func lastSystemError() -> String {
    String(cString: strerror(errno))
}
