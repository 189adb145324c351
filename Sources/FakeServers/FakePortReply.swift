import Foundation

/// A response being assembled by the fake, before the common headers are added.
struct FakePortReply {
    var status: Int
    var body: FakeJSON?
    var headers: [(String, String)] = []
    var fault: HTTPResponse.Fault?
    /// False leaves out the `x-ratelimit-*` headers (fault injection).
    var rateLimitHeaders = true
    /// Advertise `x-ratelimit-remaining: 0` (429s).
    var exhausted = false

    init(status: Int, body: FakeJSON?) {
        self.status = status
        self.body = body
    }

    /// `{"ok": true, …members}`.
    static func ok(_ members: [String: FakeJSON], status: Int = 200) -> FakePortReply {
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
        return Data(FakeJSON.bytes(body))
    }
}
