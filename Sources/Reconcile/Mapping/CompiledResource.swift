import Store

/// One resource of the config. Fields are evaluated in mapping order; the body is written in
/// canonical (sorted) order straight from the field values.
struct CompiledResource: Sendable {
    let index: Int
    let selector: CompiledField
    let fields: [CompiledField]
    /// Where the resource starts in its file, if known.
    let location: SourceLocation?
    /// This resource's part of the mapping program (`MappingProgram.resource`).
    let source: String
    let identifierSlot: Int
    let blueprintSlot: Int
    let titleSlot: Int?
    let iconSlot: Int?
    let teamSlot: Int?
    /// Slots of properties in canonical key order (the last one wins for a repeated name); nil
    /// when the mapping has no `properties`.
    let propertySlots: [Int]?
    let relationSlots: [Int]?
    /// Slots of relations in mapping order, for `relationTargets`.
    let relationOrder: [Int]

    init(index: Int, resource: ResourceMapping) {
        self.index = index
        location = resource.location
        selector = CompiledField(path: "selector.query", name: "query", expression: resource.selectorQuery)
        let mappings = resource.mappings
        var fields: [CompiledField] = []
        func add(_ path: String, _ name: String, _ expression: MappingExpression?) -> Int? {
            guard let expression else { return nil }
            fields.append(CompiledField(path: path, name: name, expression: expression))
            return fields.count - 1
        }
        identifierSlot = add("identifier", "identifier", mappings.identifier) ?? 0
        titleSlot = add("title", "title", mappings.title)
        blueprintSlot = add("blueprint", "blueprint", mappings.blueprint) ?? 0
        iconSlot = add("icon", "icon", mappings.icon)
        teamSlot = add("team", "team", mappings.team)

        func group(_ prefix: String, _ named: [NamedExpression]?) -> (sorted: [Int]?, order: [Int]) {
            guard let named else { return (nil, []) }
            var slotByName: [String: Int] = [:]
            var order: [Int] = []
            for item in named {
                if let slot = add("\(prefix).\(item.name)", item.name, item.expression) {
                    slotByName[item.name] = slot
                    order.append(slot)
                }
            }
            let sorted = slotByName.keys.sorted().compactMap { slotByName[$0] }
            return (sorted, order)
        }
        propertySlots = group("properties", mappings.properties).sorted
        let relations = group("relations", mappings.relations)
        relationSlots = relations.sorted
        relationOrder = relations.order
        self.fields = fields
        source = MappingProgram.resource(selector: selector.source, fields: fields.map(\.source))
    }

    /// The field at a progress slot (0: the selector).
    func field(atSlot slot: Int) -> CompiledField {
        slot > 0 && slot <= fields.count ? fields[slot - 1] : selector
    }

    /// `(path, expression)` of the selector and every field, in evaluation order.
    var descriptions: [(path: String, expression: String)] {
        [(selector.path, selector.expression.text)] + fields.map { ($0.path, $0.expression.text) }
    }
}
