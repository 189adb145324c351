import Foundation
@testable import Reconcile
import Store
import XCTest

/// Helpers shared by the mapping tests.
enum MappingTestSupport {
    static func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        do {
            return try CanonicalJSON.parse(text)
        } catch {
            XCTFail("bad JSON in test: \(error)", file: file, line: line)
            throw error
        }
    }

    static func config(_ yaml: String, file: String = "mapping.yaml") throws -> PortAppConfig {
        try PortAppConfig.parse(yaml: yaml, file: file)
    }

    static func compile(_ yaml: String) throws -> CompiledMapping {
        try CompiledMapping(try config(yaml))
    }

    /// A one-resource mapping for `kind`; `mappings` holds the lines under `mappings:`, unindented.
    static func single(kind: String = "component", query: String = "'true'", _ mappings: String) -> String {
        let body = mappings.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "          " + $0 }.joined(separator: "\n")
        return """
        resources:
          - kind: \(kind)
            selector:
              query: \(query)
            port:
              entity:
                mappings:
        \(body)
        """
    }

    static func ref(of entity: JSONValue) throws -> EntityRef {
        try XCTUnwrap(EntityRef(entity: entity), "fixture entity has no ref")
    }

    /// The fixture entities, parsed.
    static func fixture() throws -> [JSONValue] {
        try CatalogFixture.entities.map { try json($0) }
    }

    /// Canonical JSON text, for readable failure messages.
    static func text(_ value: JSONValue) -> String {
        CanonicalJSON.string(value)
    }

    /// The repository root, found from this file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
