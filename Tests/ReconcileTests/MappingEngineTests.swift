import Foundation
@testable import Reconcile
import Store
import XCTest

/// Ocean's jq semantics, one rule at a time.
final class MappingEngineTests: XCTestCase {
    private typealias Support = MappingTestSupport

    private let ref = EntityRef(kind: "Component", namespace: "default", name: "svc")

    private func entity() throws -> JSONValue {
        try Support.json("""
            {"kind":"Component","metadata":{"name":"svc","namespace":"default","title":"Svc"},
             "spec":{"type":"service","items":[1,2,3],"name":"text","zero":0,"empty":"","list":[],"no":false},
             "relations":[{"type":"ownedBy","targetRef":"group:default/a"},{"type":"ownedBy","targetRef":"group:default/b"}]}
            """)
    }

    /// Maps the test entity with one resource and returns its single result.
    private func mapOne(_ mappings: String, query: String = "'true'", file: StaticString = #filePath,
                        line: UInt = #line) throws -> MappingResult
    {
        let mapping = try Support.compile(Support.single(query: query, mappings))
        let results = mapping.map(try entity(), ref: ref)
        XCTAssertEqual(results.count, 1, file: file, line: line)
        return try XCTUnwrap(results.first, file: file, line: line)
    }

    private func properties(_ result: MappingResult, file: StaticString = #filePath, line: UInt = #line) throws
        -> [String: JSONValue]
    {
        let entity = try XCTUnwrap(result.entity, "outcome: \(result.outcome)", file: file, line: line)
        return try XCTUnwrap(entity.body["properties"]?.objectValue, file: file, line: line)
    }

    private let base = """
        identifier: .metadata.identifier
        blueprint: '"service"'
        """

    // MARK: First output, no output, errors

    func testEveryExpressionYieldsItsFirstOutputOnly() throws {
        let result = try mapOne(base + """

            properties:
              native: .spec.items[]
              libjq: .spec.items[] | select(. > 1)
              owner: .relations[] | select(.type == "ownedBy") | .targetRef
              afterError: .spec.items[], error("never reached")
              libjqAfterError: (.spec.items[] | . * 10), error("never reached")
            """)
        let props = try properties(result)
        XCTAssertEqual(props["native"], 1)
        XCTAssertEqual(props["libjq"], 2)
        XCTAssertEqual(props["owner"], "group:default/a")
        XCTAssertEqual(props["afterError"], 1)
        XCTAssertEqual(props["libjqAfterError"], 10)
        XCTAssertEqual(result.warnings, [])
    }

    /// libjq 1.6 implements `break` as an error that a `try` or `?` inside the expression catches;
    /// one program per resource built on `first(f)` would get these wrong.
    func testFirstOutputIsExactWithTryAndOptional() throws {
        let result = try mapOne(base + """

            properties:
              caught: .spec.items[] | (try . catch error("handler ran"))
              optional: (.spec.items[] | .?), error("never reached")
              tryEmpty: try (.spec.items[]) catch "d"
            """)
        let props = try properties(result)
        XCTAssertEqual(props["caught"], 1)
        XCTAssertEqual(props["optional"], 1)
        XCTAssertEqual(props["tryEmpty"], 1)
        XCTAssertEqual(result.warnings, [])
    }

    func testNoOutputGivesNullAndAWarning() throws {
        let result = try mapOne(base + """

            properties:
              native: .relations[] | select(.type == "partOf") | .targetRef
              libjq: .spec.items[] | select(. > 10)
              present: .spec.type
            """)
        let props = try properties(result)
        XCTAssertEqual(props["native"], .null)
        XCTAssertEqual(props["libjq"], .null)
        XCTAssertEqual(props["present"], "service")
        XCTAssertEqual(result.warnings, [
            MappingWarning(resourceIndex: 0, field: "properties.native",
                           expression: #".relations[] | select(.type == "partOf") | .targetRef"#, entity: ref,
                           problem: .noOutput),
            MappingWarning(resourceIndex: 0, field: "properties.libjq", expression: ".spec.items[] | select(. > 10)",
                           entity: ref, problem: .noOutput),
        ])
        XCTAssertTrue(result.warnings[0].description.contains("component:default/svc"))
    }

    func testRuntimeErrorGivesNullAndAWarningWithJqsMessage() throws {
        let result = try mapOne(base + """

            properties:
              indexString: .spec.name.first
              iterateNull: .spec.missing[]
              custom: error("custom failure")
              fine: .spec.type
            relations:
              broken: .relations | .x
            """)
        let props = try properties(result)
        XCTAssertEqual(props["indexString"], .null)
        XCTAssertEqual(props["iterateNull"], .null)
        XCTAssertEqual(props["custom"], .null)
        XCTAssertEqual(props["fine"], "service")
        XCTAssertEqual(result.entity?.body[path: ["relations", "broken"]], .null)
        let messages = Dictionary(uniqueKeysWithValues: result.warnings.map { ($0.field, $0.message) })
        // libjq 1.6's wording (jq 1.7 drops "string " and " (null)").
        XCTAssertEqual(messages["properties.indexString"], #"Cannot index string with string "first""#)
        XCTAssertEqual(messages["properties.iterateNull"], "Cannot iterate over null (null)")
        XCTAssertEqual(messages["properties.custom"], "custom failure")
        XCTAssertEqual(messages["relations.broken"], #"Cannot index array with string "x""#)
        XCTAssertEqual(result.warnings.count, 4)
    }

    // MARK: Selector

    func testSelectorFalseFiltersWithoutEvaluatingFields() throws {
        let result = try mapOne(base + "\ntitle: error(\"not evaluated\")", query: #"'.spec.type == "library"'"#)
        guard case .filtered = result.outcome else { return XCTFail("\(result.outcome)") }
        XCTAssertEqual(result.warnings, [])
    }

    func testSelectorTrueMaps() throws {
        let result = try mapOne(base, query: #"'.spec.type == "service"'"#)
        XCTAssertEqual(result.entity?.identifier, "component:default/svc")
    }

    func testSelectorMustYieldABoolean() throws {
        let cases: [(query: String, fragment: String)] = [
            ("'.spec.type'", "must yield a boolean, got string"),
            ("'\"true\"'", "must yield a boolean, got string"),
            ("'null'", "must yield a boolean, got null"),
            ("'.spec.items'", "must yield a boolean, got array"),
            ("'.spec.items[] | select(. > 5) | true'", "must yield a boolean, got no output"),
            ("'empty'", "must yield a boolean, got no output"),
            ("'.spec.name | .x'", #"failed: Cannot index string with string "x""#),
        ]
        for (query, fragment) in cases {
            let result = try mapOne(base, query: query)
            guard case .selectorError(let message) = result.outcome else {
                XCTFail("\(query): \(result.outcome)")
                continue
            }
            XCTAssertTrue(message.contains(fragment), "\(query): \(message)")
            XCTAssertTrue(message.hasPrefix("selector.query `"), message)
        }
        // First output decides: `true, "x"` is true.
        XCTAssertNotNil(try mapOne(base, query: "'true, \"x\"'").entity)
    }

    func testBareScalarSelector() throws {
        // `query: true` in YAML is the boolean scalar; its text is the jq expression `true`.
        let config = try Support.config(Support.single(query: "true", base))
        XCTAssertEqual(config.resources[0].selectorQuery.text, "true")
        XCTAssertNotNil(try mapOne(base, query: "true").entity)
        guard case .filtered = try mapOne(base, query: "false").outcome else { return XCTFail("false filters") }
    }

    // MARK: Dropped entities

    func testEntitiesWithoutUsableIdentifierOrBlueprintAreDropped() throws {
        let cases: [(identifier: String, blueprint: String, reason: DropReason)] = [
            (".metadata.missing", #"'"service"'"#, .emptyIdentifier),
            ("'\"\"'", #"'"service"'"#, .emptyIdentifier),
            ("false", #"'"service"'"#, .emptyIdentifier),
            (".spec.zero", #"'"service"'"#, .emptyIdentifier),
            (".spec.list", #"'"service"'"#, .emptyIdentifier),
            (".spec.items[] | select(. > 9)", #"'"service"'"#, .emptyIdentifier),
            (".spec.name.x", #"'"service"'"#, .emptyIdentifier),
            ("'1'", #"'"service"'"#, .identifierNotString("number")),
            (".spec.items", #"'"service"'"#, .identifierNotString("array")),
            ("true", #"'"service"'"#, .identifierNotString("boolean")),
            (".metadata.identifier", "'null'", .emptyBlueprint),
            (".metadata.identifier", "'\"\"'", .emptyBlueprint),
            (".metadata.identifier", ".spec.items", .blueprintNotString("array")),
        ]
        for (identifier, blueprint, reason) in cases {
            let result = try mapOne("identifier: \(identifier)\nblueprint: \(blueprint)")
            guard case .dropped(let got) = result.outcome else {
                XCTFail("\(identifier) / \(blueprint): \(result.outcome)")
                continue
            }
            XCTAssertEqual(got, reason, "\(identifier) / \(blueprint)")
        }
    }

    // MARK: What is sent

    func testNullsAndFalsyValuesAreSent() throws {
        let result = try mapOne(base + """

            properties:
              null: .spec.missing
              false: .spec.no
              zero: .spec.zero
              emptyString: .spec.empty
              emptyArray: .spec.list
              emptyObject: '{}'
            relations:
              none: .spec.missing
            """)
        let body = try XCTUnwrap(result.entity?.body)
        XCTAssertEqual(body["properties"], [
            "null": nil, "false": false, "zero": 0, "emptyString": "", "emptyArray": [], "emptyObject": [:],
        ])
        XCTAssertEqual(body["relations"], ["none": nil])
        XCTAssertEqual(result.warnings, [], "explicit nulls are values, not missing outputs")
    }

    func testOnlyMappedKeysAreSent() throws {
        let bare = try XCTUnwrap(try mapOne(base).entity)
        XCTAssertEqual(bare.body, ["identifier": "component:default/svc", "blueprint": "service"])

        let full = try XCTUnwrap(try mapOne(base + """

            title: .metadata.title
            icon: '"Cloud"'
            team: '["payments"]'
            properties: {}
            relations: {}
            """).entity)
        XCTAssertEqual(full.body, [
            "identifier": "component:default/svc", "blueprint": "service", "title": "Svc", "icon": "Cloud",
            "team": ["payments"], "properties": [:], "relations": [:],
        ])
        XCTAssertEqual(full.canonical.bytes, CanonicalJSON.bytes(full.body))
    }

    func testIdentifierIsInjectedWithoutTouchingTheStoredEntity() throws {
        let stored = JQValue(try Support.json(#"{"kind":"API","metadata":{"name":"Orders-API"},"spec":{}}"#))
        let apiRef = EntityRef(kind: "API", namespace: nil, name: "Orders-API")
        let mapping = try Support.compile(Support.single(kind: "api", """
            identifier: .metadata.identifier
            blueprint: '"api"'
            properties:
              namespace: .metadata.namespace
            """))
        let result = try XCTUnwrap(mapping.map(stored, ref: apiRef).first)
        XCTAssertEqual(result.entity?.identifier, "api:default/orders-api")
        XCTAssertEqual(result.entity?.body[path: ["properties", "namespace"]], .null)
        XCTAssertNil(stored.member("metadata")?.member("identifier"), "the input must not be modified")

        let prepared = OceanInput.withIdentifier(["kind": "User", "metadata": ["name": "x"]],
                                                 ref: EntityRef(kind: "User", namespace: "Team", name: "X"))
        XCTAssertEqual(prepared[path: ["metadata", "identifier"]], "user:team/x")
        XCTAssertEqual(prepared[path: ["metadata", "name"]], "x")
    }

    func testNonObjectEntityIsAnErrorForEachMatchingResource() throws {
        let mapping = try Support.compile(Support.single(base))
        let results = mapping.map(["not", "an", "object"], ref: ref)
        XCTAssertEqual(results.count, 1)
        guard case .selectorError = results[0].outcome else { return XCTFail("\(results[0].outcome)") }
    }

    // MARK: Kinds and resources

    func testSameKindInTwoResourcesYieldsTwoEntities() throws {
        let mapping = try Support.compile("""
            resources:
              - kind: component
                selector: {query: 'true'}
                port: {entity: {mappings: {identifier: .metadata.identifier, blueprint: '"service"'}}}
              - kind: user
                selector: {query: 'true'}
                port: {entity: {mappings: {identifier: .metadata.name, blueprint: '"person"'}}}
              - kind: Component
                selector: {query: '.spec.type == "service"'}
                port: {entity: {mappings: {identifier: .metadata.name, blueprint: '"deployable"'}}}
              - kind: COMPONENT
                selector: {query: 'false'}
                port: {entity: {mappings: {identifier: .metadata.name, blueprint: '"never"'}}}
            """)
        XCTAssertEqual(mapping.resourceIndices(forKind: "Component"), [0, 2, 3])
        let results = mapping.map(try entity(), ref: ref)
        XCTAssertEqual(results.map(\.resourceIndex), [0, 2, 3])
        XCTAssertEqual(results[0].entity?.blueprint, "service")
        XCTAssertEqual(results[0].entity?.identifier, "component:default/svc")
        XCTAssertEqual(results[1].entity?.blueprint, "deployable")
        XCTAssertEqual(results[1].entity?.identifier, "svc")
        guard case .filtered = results[2].outcome else { return XCTFail("\(results[2].outcome)") }
        XCTAssertEqual(mapping.map(try entity(), ref: EntityRef(kind: "Template", namespace: nil, name: "svc")).count, 0)
    }

    // MARK: Quotes and compile errors

    func testOceanQuoteRewrite() {
        // Expected values computed with Python's `re.sub` and Ocean's pattern.
        let cases: [(String, String)] = [
            ("'foo'", "\"foo\""),
            (".a == 'x'", ".a == \"x\""),
            ("'\"component\"'", "'\"component\"'"),
            ("\"it's\"", "\"it's\""),
            ("'a' + 'b'", "\"a\" + \"b\""),
            ("' x'", "\" x\""),
            ("'", "\""),
            ("''", "\"\""),
            ("x'", "x\""),
            (" ' ", " ' "),
            (".name | test('^a b$')", ".name | test('^a b$')"),
            ("[.x, 'y']", "[.x, \"y']"),
            ("'a\n'", "\"a\n\""),
            ("\t'b'\t", "\t\"b\"\t"),
            ("'don't'", "\"don't\""),
            ("select(.type == 'ownedBy')", "select(.type == \"ownedBy')"),
            ("\u{a0}'x'\u{3000}", "\u{a0}\"x\"\u{3000}"),
            ("\u{1c}'x'\u{1f}", "\u{1c}\"x\"\u{1f}"),
            ("a''b", "a''b"),
            ("'a'b'", "\"a'b\""),
            ("\"'\"", "\"'\""),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(OceanQuotes.rewrite(input), expected, input.debugDescription)
        }
    }

    func testSingleQuotedStringsWorkInMappings() throws {
        let result = try mapOne("""
            identifier: .metadata.identifier
            blueprint: "'service'"
            properties:
              isService: .spec.type == 'service'
            """, query: "\".spec.type == 'service'\"")
        XCTAssertEqual(result.entity?.blueprint, "service")
        XCTAssertEqual(result.entity?.body[path: ["properties", "isService"]], true)
    }

    func testCompileErrorNamesResourceFieldAndExpression() throws {
        let yaml = """
            resources:
              - kind: component
                selector: {query: 'true'}
                port: {entity: {mappings: {identifier: .metadata.identifier, blueprint: '"a"'}}}
              - kind: api
                selector:
                  query: 'true'
                port:
                  entity:
                    mappings:
                      identifier: .metadata.identifier
                      blueprint: '"api"'
                      properties:
                        ok: .spec.type
                        bad: .spec.type |
            """
        let config = try Support.config(yaml)
        XCTAssertThrowsError(try CompiledMapping(config)) { error in
            guard case MappingError.compile(let index, let field, let expression, let message, let location) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(index, 1)
            XCTAssertEqual(field, "properties.bad")
            XCTAssertEqual(expression, ".spec.type |")
            XCTAssertTrue(message.contains("syntax error"), message)
            XCTAssertFalse(message.contains("compile error"), message)
            XCTAssertEqual(location?.line, 15)
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("mapping.yaml:15: resources[1] properties.bad: jq expression `.spec.type |`"),
                          text)
        }
        // Selectors are checked too.
        let badSelector = try Support.config(Support.single(query: "'.a =='", base))
        XCTAssertThrowsError(try CompiledMapping(badSelector)) { error in
            guard case MappingError.compile(0, "selector.query", ".a ==", _, _) = error else { return XCTFail("\(error)") }
        }
        // `if` without `else` is jq 1.7 syntax; libjq 1.6 refuses it when the mapping is compiled.
        let newSyntax = try Support.config(Support.single(base + "\ntitle: if .a then 1 end"))
        XCTAssertThrowsError(try CompiledMapping(newSyntax))
    }

    /// Every field's outputs are counted by the one program: only fields with several outputs are
    /// listed, outputs before an error count, and an error alone or one output is not listed.
    func testFieldsWithSeveralOutputsAreCountedByTheProgram() throws {
        let mapping = try CompiledMapping(try Support.config(Support.single("""
            identifier: .metadata.name
            blueprint: '"service"'
            properties:
              one: .spec.a[0]
              three: .spec.a[]
              twoThenError: (.spec.a[0], .spec.a[1], error("late"))
              errorOnly: error("early")
              none: empty
            relations:
              owners: .relations[]?.targetRef
            """)))
        let entity: JSONValue = ["kind": "Component", "metadata": ["name": "svc"], "spec": ["a": [1, 2, 3]],
                                 "relations": [["type": "ownedBy", "targetRef": "group:default/a"],
                                               ["type": "ownedBy", "targetRef": "group:default/b"]]]
        let results = mapping.map(entity, ref: EntityRef(kind: "component", namespace: nil, name: "svc"))
        XCTAssertNotNil(results.first?.entity)
        XCTAssertEqual(results.first?.multipleOutputs,
                       ["properties.three": 3, "properties.twoThenError": 2, "relations.owners": 2])
    }

    /// A database that recorded a program as compiled lets a run skip the up-front check; the key
    /// names the program and the libjq, so any other program is still checked.
    func testRecordedProgramSkipsTheCheckAndOnlyThatProgram() throws {
        let base = "identifier: .metadata.name\nblueprint: '\"service\"'"
        let good = try CompiledMapping(try Support.config(Support.single(base + "\ntitle: .metadata.title")))
        let other = try CompiledMapping(try Support.config(Support.single(base + "\ntitle: .metadata.name")))
        XCTAssertTrue(good.hasCompiled)
        XCTAssertEqual(good.programKey.count, 64)
        XCTAssertNotEqual(good.programKey, other.programKey)
        XCTAssertEqual(good.programKey, try CompiledMapping(try Support.config(Support.single(base + "\ntitle: .metadata.title"))).programKey)

        // A broken program is refused unless its key is recorded; asked only for its own key.
        let broken = try Support.config(Support.single(base + "\ntitle: .metadata.title |"))
        var asked: [String] = []
        XCTAssertThrowsError(try CompiledMapping(broken, compiledBefore: { asked.append($0); return $0 == good.programKey }))
        XCTAssertEqual(asked.count, 1)
        XCTAssertNotEqual(asked.first, good.programKey)
        // Trusted wrongly (a database copied between machines with different jq builds), the
        // program fails when it maps: every entity gets the compile error, and nothing is mapped.
        let trusted = try CompiledMapping(broken, compiledBefore: { _ in true })
        XCTAssertFalse(trusted.hasCompiled)
        let entity: JSONValue = ["kind": "Component", "metadata": ["name": "a", "title": "A"]]
        let results = trusted.map(entity, ref: EntityRef(kind: "component", namespace: nil, name: "a"))
        XCTAssertEqual(results.count, 1)
        XCTAssertNil(results.first?.entity)
        XCTAssertTrue("\(results)".contains("does not compile"), "\(results)")
    }

    // MARK: Threads

    func testCopiesMapIndependentlyOnOtherThreads() throws {
        let mapping = try CompiledMapping(try Support.config(BuiltinMapping.yaml))
        let expected = try Support.fixture().map { entity in
            mapping.map(entity, ref: try Support.ref(of: entity)).compactMap(\.entity)
        }
        let copies = (0..<3).map { _ in MappingBox(mapping.copy()) }
        let texts = CatalogFixture.entities
        let outputs = Outputs()
        DispatchQueue.concurrentPerform(iterations: copies.count) { worker in
            // Each worker parses its own entities: jv values must not cross threads.
            let copy = copies[worker].mapping
            var mapped: [[PortEntity]] = []
            for _ in 0..<50 {
                mapped = texts.compactMap { text -> [PortEntity]? in
                    guard let entity = try? JQValue.parse(text), let ref = EntityRef(entity: entity.toJSONValue()) else {
                        return nil
                    }
                    return copy.map(entity, ref: ref).compactMap(\.entity)
                }
            }
            outputs.set(worker, mapped)
        }
        for worker in 0..<copies.count {
            XCTAssertEqual(outputs.get(worker), expected, "worker \(worker)")
        }
    }
}

/// Hands one mapping to one worker thread (each worker gets its own copy).
private final class MappingBox: @unchecked Sendable {
    let mapping: CompiledMapping
    init(_ mapping: CompiledMapping) { self.mapping = mapping }
}

/// Results collected from worker threads.
private final class Outputs: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: [[PortEntity]]] = [:]

    func set(_ worker: Int, _ value: [[PortEntity]]) {
        lock.lock()
        values[worker] = value
        lock.unlock()
    }

    func get(_ worker: Int) -> [[PortEntity]]? {
        lock.lock()
        defer { lock.unlock() }
        return values[worker]
    }
}
