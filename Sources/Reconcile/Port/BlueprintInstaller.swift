import Fetch
import Store

/// Creates or updates blueprints in Port in the order Port requires: a relation's target must
/// exist, so first every missing blueprint bare (no relations or computed properties), then the
/// relations, then the full definition. Re-running it changes nothing further.
public struct BlueprintInstaller {
    public struct Report: Sendable {
        public var created: [String] = []
        public var updated: [String] = []
    }

    let client: PortClient

    public init(settings: PortSettings) throws {
        let auth = PortAuth(baseURL: settings.baseURL, credentials: settings.credentials)
        client = try PortClient(baseURL: settings.baseURL, auth: auth, transport: settings.transport, retry: settings.retry)
    }

    /// Keys that may refer to other blueprints; left out of the first stage.
    static let laterKeys: Set<String> = ["relations", "mirrorProperties", "calculationProperties",
                                          "aggregationProperties", "teamInheritance", "ownership"]

    public func apply(_ blueprints: [JSONValue]) throws -> Report {
        var report = Report()
        var identifiers: [String] = []
        for blueprint in blueprints {
            guard let object = blueprint.objectValue, let identifier = object["identifier"]?.stringValue else {
                throw MappingLoadError(message: "every blueprint needs a string identifier")
            }
            identifiers.append(identifier)
            if try client.blueprint(identifier) == nil {
                try client.createBlueprint(.object(object.filter { !BlueprintInstaller.laterKeys.contains($0.key) }))
                report.created.append(identifier)
            }
        }
        for (identifier, blueprint) in zip(identifiers, blueprints) {
            if let relations = blueprint["relations"] {
                try client.patchBlueprint(identifier, ["relations": relations])
            }
        }
        for (identifier, blueprint) in zip(identifiers, blueprints) {
            guard var object = blueprint.objectValue else { continue }
            object["identifier"] = nil
            try client.patchBlueprint(identifier, .object(object))
            if !report.created.contains(identifier) { report.updated.append(identifier) }
        }
        return report
    }

    /// Reads blueprints from a JSON file: an array, or `{"blueprints": [...]}`.
    public static func load(path: String) throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MappingLoadError(message: "blueprints \(path): cannot read the file")
        }
        let value: JSONValue
        do {
            value = try CanonicalJSON.parse(Array(data))
        } catch {
            throw MappingLoadError(message: "blueprints \(path): not JSON: \(error)")
        }
        if let array = value.arrayValue ?? value["blueprints"]?.arrayValue { return array }
        throw MappingLoadError(message: "blueprints \(path): expected a JSON array of blueprints")
    }
}

import Foundation
