import CCrypto
import Foundation

/// Etags of final entities as Backstage's stitcher makes them (reference: descriptor processing
/// §9, catalog API §5.2): `generateStableHash`, the SHA-1 hex of the entity's key-sorted JSON,
/// computed before `metadata.uid` and `metadata.etag` are set.
enum EntityEtags {
    /// The etag `entity` should carry: the SHA-1 of its sorted JSON without uid and etag.
    static func etag(of entity: FakeJSON) -> String {
        let text = FakeJSON.bytes(withoutIdentity(entity))
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        text.withUnsafeBufferPointer { input in
            _ = SHA1(input.baseAddress, input.count, &digest)
        }
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// `entity` with `metadata.uid` and `metadata.etag` removed.
    static func withoutIdentity(_ entity: FakeJSON) -> FakeJSON {
        guard case .object(var root) = entity, case .object(var metadata)? = root["metadata"] else { return entity }
        metadata["uid"] = nil
        metadata["etag"] = nil
        root["metadata"] = .object(metadata)
        return .object(root)
    }

    /// `entity` with `metadata.etag` set.
    static func setting(etag: String, on entity: FakeJSON) -> FakeJSON {
        guard case .object(var root) = entity, case .object(var metadata)? = root["metadata"] else { return entity }
        metadata["etag"] = .string(etag)
        root["metadata"] = .object(metadata)
        return .object(root)
    }

    /// Every entity with its etag set, hashed on all cores.
    static func stamped(_ entities: [FakeJSON]) -> [FakeJSON] {
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
