import Foundation

/// The fake's notion of "now": the wall clock plus an offset tests can advance, so token expiry
/// and rate-limit windows can be exercised without sleeping.
struct FakePortClock {
    var offset: TimeInterval = 0

    func now() -> Date { Date().addingTimeInterval(offset) }

    /// ISO-8601 in UTC with milliseconds and `Z`, as Port writes `createdAt`/`updatedAt`.
    static func iso8601(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }
}
