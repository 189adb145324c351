import Store

/// One expression of a resource and where its value goes.
struct CompiledField: Sendable {
    /// Ocean's path for it: `identifier`, `title`, `properties.email`, `relations.system`.
    let path: String
    /// The property or relation name (the key itself for top-level fields).
    let name: String
    let expression: MappingExpression
    /// The jq text after Ocean's quote rewrite.
    let source: String

    init(path: String, name: String, expression: MappingExpression) {
        self.path = path
        self.name = name
        self.expression = expression
        source = OceanQuotes.rewrite(expression.text)
    }

    func compileError(resource: Int, message: String) -> MappingError {
        .compile(resourceIndex: resource, field: path, expression: expression.text, message: message,
                 location: expression.location)
    }
}
