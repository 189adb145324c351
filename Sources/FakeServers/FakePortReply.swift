import Foundation
import Store

/// A response being assembled by the fake, before the common headers are added.
struct FakePortReply {
    var status: Int
    var body: JSONValue?
    var headers: [(String, String)] = []
    var fault: HTTPResponse.Fault?
    /// False leaves out the `x-ratelimit-*` headers (fault injection).
    var rateLimitHeaders = true
    /// Advertise `x-ratelimit-remaining: 0` (429s).
    var exhausted = false

    init(status: Int, body: JSONValue?) {
        self.status = status
        self.body = body
    }

    /// `{"ok": true, …members}`.
    static func ok(_ members: [String: JSONValue], status: Int = 200) -> FakePortReply {
        var all = members
        all["ok"] = true
        return FakePortReply(status: status, body: .object(all))
    }

    init(error: FakePortError) {
        self.init(status: error.status, body: error.body)
        exhausted = error.status == 429
    }

    var bodyData: Data {
        guard let body else { return Data() }
        return Data(CanonicalJSON.bytes(body))
    }
}
