import Store

/// What a config compiles to, apart from the libjq state: the resources and the program text.
/// Immutable; shared by the copies of a `CompiledMapping`.
final class MappingPlan: Sendable {
    let config: PortAppConfig
    let resources: [CompiledResource]
    /// Lower-cased mapping kind → resource indices, in mapping order.
    let resourcesByKind: [String: [Int]]
    /// The whole mapping's jq program (`MappingProgram`).
    let source: String

    init(_ config: PortAppConfig) {
        self.config = config
        resources = config.resources.enumerated().map { CompiledResource(index: $0.offset, resource: $0.element) }
        var byKind: [String: [Int]] = [:]
        for (index, resource) in config.resources.enumerated() {
            byKind[resource.kind.lowercased(), default: []].append(index)
        }
        resourcesByKind = byKind
        source = MappingProgram.mapping(resources: resources.map(\.source))
    }

    /// The expression to blame when the program does not compile. Slow (one compile per resource,
    /// then per expression of the failing resource), so only used once the program has failed.
    func locate(_ failure: JQCompileFailure) -> MappingError {
        for resource in resources {
            guard (try? JQProgram(resource.source)) == nil else { continue }
            let all = [resource.selector] + resource.fields
            for field in all {
                do {
                    _ = try JQProgram(field.source)
                } catch {
                    return field.compileError(resource: resource.index, message: error.message)
                }
            }
            for (slot, field) in all.enumerated() {
                do {
                    let wrapped = slot == 0 ? MappingProgram.collected(field.source) : MappingProgram.standalone(field: field.source)
                    _ = try JQProgram(wrapped)
                } catch {
                    return field.compileError(resource: resource.index, message: """
                        compiles on its own but not as part of mirrorctl's mapping program (\(error.message)); \
                        an expression that is only a comment or only definitions yields its input: end it with `.`
                        """)
                }
            }
            return MappingError.compile(resourceIndex: resource.index, field: "(all expressions)", expression: "",
                                        message: failure.message, location: resource.location)
        }
        return MappingError.compile(resourceIndex: 0, field: "(all expressions)", expression: "", message: failure.message,
                                    location: nil)
    }
}
