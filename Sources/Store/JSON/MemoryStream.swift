import Glibc

/// A stdio stream that writes into memory (`open_memstream`), reused for every value one thread
/// prints.
///
/// libjq prints JSON through a `FILE` (`jv_dumpf`), one token at a time. Opening a memory stream
/// per value costs a zeroed 8 KB buffer and stdio's process-wide list lock on open and close, a
/// tenth of printing a mapped entity, and the lock is shared by the mapping threads. One stream per
/// thread, rewound before each value, costs neither. Owns the `FILE` and its buffer.
final class MemoryStream {
    private let stream: UnsafeMutablePointer<FILE>
    /// Where `open_memstream` keeps the buffer address and the written size: they must stay put
    /// for the life of the stream, so they are not Swift properties.
    private let bufferLocation: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let sizeLocation: UnsafeMutablePointer<Int>

    /// A buffer grown past this by one large value is given back after that value.
    private static let retainedCapacity = 1 << 20

    init?() {
        bufferLocation = .allocate(capacity: 1)
        bufferLocation.initialize(to: nil)
        sizeLocation = .allocate(capacity: 1)
        sizeLocation.initialize(to: 0)
        guard let stream = open_memstream(bufferLocation, sizeLocation) else {
            bufferLocation.deallocate()
            sizeLocation.deallocate()
            return nil
        }
        self.stream = stream
        // Only the owning thread writes: skip stdio's per-call locking.
        _ = MemoryStream.setLocking?(stream, 2)  // FSETLOCKING_BYCALLER
    }

    deinit {
        fclose(stream)
        free(bufferLocation.pointee)
        bufferLocation.deallocate()
        sizeLocation.deallocate()
    }

    /// Runs `write` on the rewound stream and returns the bytes it wrote.
    func print(_ write: (UnsafeMutablePointer<FILE>) -> Void) -> [UInt8] {
        rewind(stream)
        write(stream)
        fflush(stream)
        let count = sizeLocation.pointee
        guard let base = bufferLocation.pointee, count > 0 else { return [] }
        let bytes = base.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
        if count > MemoryStream.retainedCapacity { MemoryStream.release() }
        return bytes
    }

    // MARK: One per thread

    /// This thread's stream, made on first use and closed when the thread exits; nil if stdio
    /// refuses a memory stream.
    static var ofThisThread: MemoryStream? {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<MemoryStream>.fromOpaque(existing).takeUnretainedValue()
        }
        guard let made = MemoryStream() else { return nil }
        pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
        return made
    }

    /// Drops this thread's stream (and its buffer); the next print makes a new one.
    private static func release() {
        guard let existing = pthread_getspecific(key) else { return }
        pthread_setspecific(key, nil)
        Unmanaged<MemoryStream>.fromOpaque(existing).release()
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { stream in
            if let stream { Unmanaged<MemoryStream>.fromOpaque(stream).release() }
        }
        return key
    }()

    /// `__fsetlocking` from <stdio_ext.h>, which Swift's Glibc module doesn't import: looked up once.
    private static let setLocking: (@convention(c) (UnsafeMutablePointer<FILE>?, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__fsetlocking") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<FILE>?, Int32) -> Int32).self)
    }()
}

@available(*, unavailable)
extension MemoryStream: Sendable {}
