import Foundation

/// The `/entities/by-query` cursor: base64 of a JSON object, like Backstage's. It holds the last
/// uid seen (keyset paging on `metadata.uid`), the filter of the first request, the `totalItems`
/// computed then, and the number of the page it fetches (the fake's own addition, used by
/// page-triggered faults and hooks; clients must treat cursors as opaque).
struct QueryCursor: Equatable {
    var lastUID: String
    var filter: [String]
    var totalItems: Int
    var page: Int

    func encoded() -> String {
        let json: FakeJSON = [
            "orderFields": [["field": "metadata.uid", "order": "asc"]],
            "orderFieldValues": [.string(lastUID)],
            "filter": .array(filter.map { .string($0) }),
            "isPrevious": false,
            "totalItems": .number(Double(totalItems)),
            "page": .number(Double(page)),
        ]
        return Data(FakeJSON.bytes(json)).base64EncodedString()
    }

    init(lastUID: String, filter: [String], totalItems: Int, page: Int) {
        self.lastUID = lastUID
        self.filter = filter
        self.totalItems = totalItems
        self.page = page
    }

    /// Decodes a cursor a client sent back; throws 400 "Malformed cursor: …" like Backstage.
    init(decoding text: String) throws(BackstageError) {
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw .input("Malformed cursor: not valid base64")
        }
        let json: FakeJSON
        do {
            json = try FakeJSON.parse([UInt8](data))
        } catch {
            throw .input("Malformed cursor: SyntaxError: \(error.message)")
        }
        guard let uid = json["orderFieldValues"]?.arrayValue?.first?.stringValue else {
            throw .input("Malformed cursor: missing orderFieldValues")
        }
        lastUID = uid
        filter = (json["filter"]?.arrayValue ?? []).compactMap(\.stringValue)
        totalItems = Int(json["totalItems"]?.numberValue ?? 0)
        page = max(2, Int(json["page"]?.numberValue ?? 2))
    }
}
