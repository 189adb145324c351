import Foundation
import Store

/// Etags of final entities: the content hash of the entity without `metadata.uid` and
/// `metadata.etag`, as Backstage hashes the stitched entity before setting either.
enum EntityEtags {
    /// The etag `entity` should carry: `ContentHash(canonicalOf:)` of the entity without its
    /// identity (computed over `EntityJSON`, which writes the same canonical bytes faster).
    static func etag(of entity: JSONValue) -> String {
        ContentHash(of: EntityJSON.bytes(withoutIdentity(entity))).hex
    }

    /// `entity` with `metadata.uid` and `metadata.etag` removed.
    static func withoutIdentity(_ entity: JSONValue) -> JSONValue {
        guard case .object(var root) = entity, case .object(var metadata)? = root["metadata"] else { return entity }
        metadata["uid"] = nil
        metadata["etag"] = nil
        root["metadata"] = .object(metadata)
        return .object(root)
    }

    /// `entity` with `metadata.etag` set.
    static func setting(etag: String, on entity: JSONValue) -> JSONValue {
        guard case .object(var root) = entity, case .object(var metadata)? = root["metadata"] else { return entity }
        metadata["etag"] = .string(etag)
        root["metadata"] = .object(metadata)
        return .object(root)
    }

    /// Every entity with its etag set, hashed on all cores.
    static func stamped(_ entities: [JSONValue]) -> [JSONValue] {
        Parallel.map(entities) { setting(etag: etag(of: $0), on: $0) }
    }
}

/// Order-preserving parallel map over the available cores, for startup work such as hashing and
/// serializing 100k entities.
enum Parallel {
    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        let results = ResultSlots<R>(count: items.count)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / 64))
        let chunk = (items.count + workers - 1) / max(1, workers)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = worker * chunk
            let end = min(items.count, start + chunk)
            guard start < end else { return }
            for index in start..<end { results.set(index, transform(items[index])) }
        }
        return results.values()
    }

    /// One slot per index, each written by exactly one worker. Raw memory rather than an array so
    /// concurrent writes to different slots do not trip Swift's exclusivity checks.
    private final class ResultSlots<R>: @unchecked Sendable {
        private let slots: UnsafeMutablePointer<R?>
        private let count: Int

        init(count: Int) {
            self.count = count
            slots = UnsafeMutablePointer<R?>.allocate(capacity: max(1, count))
            slots.initialize(repeating: nil, count: count)
        }

        deinit {
            slots.deinitialize(count: count)
            slots.deallocate()
        }

        func set(_ index: Int, _ value: R) {
            slots[index] = value
        }

        func values() -> [R] {
            UnsafeBufferPointer(start: slots, count: count).compactMap { $0 }
        }
    }
}
