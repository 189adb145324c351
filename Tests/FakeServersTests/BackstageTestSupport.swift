import FakeServers
import Foundation
import XCTest

/// Talks to a fake Backstage's catalog routes over one keep-alive connection.
final class CatalogClient {
    let fake: FakeBackstage
    let token: String?
    private let connection: RawHTTPClient

    init(_ fake: FakeBackstage, token: String? = nil) throws {
        self.fake = fake
        self.token = token
        connection = try RawHTTPClient(port: fake.port)
    }

    func get(_ relative: String, headers: [String: String] = [:]) throws -> RawHTTPClient.Response {
        try connection.request("GET", fake.configuration.basePath + relative, headers: authorized(headers))
    }

    func post(_ relative: String, json: String, headers: [String: String] = [:]) throws -> RawHTTPClient.Response {
        var all = authorized(headers)
        all["Content-Type"] = "application/json"
        return try connection.request("POST", fake.configuration.basePath + relative, headers: all, body: Data(json.utf8))
    }

    private func authorized(_ headers: [String: String]) -> [String: String] {
        var all = headers
        if let token { all["Authorization"] = "Bearer \(token)" }
        return all
    }

    /// One full by-query walk: every page's items, in order.
    struct Walk {
        var items: [[String: Any]] = []
        var pages = 0
        var totals: [Int] = []
        var uids: [String] { items.compactMap { ($0["metadata"] as? [String: Any])?["uid"] as? String } }
        var refs: [String] {
            items.map { item in
                let metadata = item["metadata"] as? [String: Any]
                let kind = (item["kind"] as? String ?? "").lowercased()
                let namespace = (metadata?["namespace"] as? String ?? "default").lowercased()
                return "\(kind):\(namespace)/\((metadata?["name"] as? String ?? "").lowercased())"
            }
        }
    }

    func walk(_ query: String, limit: Int, maxPages: Int = 10_000) throws -> Walk {
        var walk = Walk()
        var cursor: String?
        repeat {
            let target = cursor.map { "/entities/by-query?limit=\(limit)&cursor=\(Self.escape($0))" }
                ?? "/entities/by-query?limit=\(limit)\(query.isEmpty ? "" : "&" + query)"
            let response = try get(target)
            guard response.status == 200 else {
                throw RawHTTPClient.ClientError("page \(walk.pages + 1) answered \(response.status): \(response.text)")
            }
            let page = try response.object()
            walk.items += page["items"] as? [[String: Any]] ?? []
            walk.totals.append(page["totalItems"] as? Int ?? -1)
            walk.pages += 1
            cursor = (page["pageInfo"] as? [String: Any])?["nextCursor"] as? String
        } while cursor != nil && walk.pages < maxPages
        return walk
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

/// A small hand-written catalog for exact assertions.
enum SampleEntities {
    static func component(_ name: String, namespace: String = "default", owner: String = "team-a",
                          lifecycle: String = "production", uid: String? = nil, tags: [String] = []) -> FakeJSON {
        var metadata: [String: FakeJSON] = [
            "name": .string(name), "namespace": .string(namespace),
            "annotations": ["backstage.io/managed-by-location": "url:https://example.com/catalog-info.yaml"],
            "tags": .array(tags.map { .string($0) }),
        ]
        if let uid { metadata["uid"] = .string(uid) }
        return [
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": .object(metadata),
            "spec": ["type": "service", "lifecycle": .string(lifecycle), "owner": .string(owner)],
            "relations": [["type": "ownedBy", "targetRef": .string("group:default/\(owner)")]],
        ]
    }

    static func group(_ name: String, uid: String? = nil) -> FakeJSON {
        var metadata: [String: FakeJSON] = ["name": .string(name)]
        if let uid { metadata["uid"] = .string(uid) }
        return ["apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": .object(metadata),
                "spec": ["type": "team", "children": []]]
    }

    static func api(_ name: String, uid: String? = nil) -> FakeJSON {
        var metadata: [String: FakeJSON] = ["name": .string(name), "namespace": "default"]
        if let uid { metadata["uid"] = .string(uid) }
        return ["apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": .object(metadata),
                "spec": ["type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": "openapi: 3.0.0"]]
    }

    /// `kind:namespace/name` lower-cased (Backstage's `stringifyEntityRef`); nil without kind or name.
    static func ref(of entity: FakeJSON) -> String? {
        guard let kind = entity["kind"]?.stringValue, let name = entity[path: ["metadata", "name"]]?.stringValue else { return nil }
        let namespace = entity[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        return "\(kind):\(namespace)/\(name)".lowercased()
    }

    /// The etag Backstage's stitcher gives `entity`: the SHA-1 hex of its key-sorted JSON without
    /// uid and etag, hashed by coreutils' `sha1sum` so the fake's own hashing is checked too.
    static func etag(of entity: FakeJSON) throws -> String {
        var content = entity.objectValue ?? [:]
        var metadata = content["metadata"]?.objectValue ?? [:]
        metadata["uid"] = nil
        metadata["etag"] = nil
        content["metadata"] = .object(metadata)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha1sum")
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(FakeJSON.bytes(.object(content))))
        try input.fileHandleForWriting.close()
        let digest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: digest.prefix(40), as: UTF8.self)
    }

    /// `n` as a uid that sorts in numeric order.
    static func uid(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        let padded = String(repeating: "0", count: 12 - hex.count) + hex
        return "00000000-0000-4000-8000-\(padded)"
    }
}
