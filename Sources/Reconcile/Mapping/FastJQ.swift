import CJQ
import Foundation

/// A native evaluator for a small subset of jq, used in front of libjq because libjq 1.6 is
/// slow (about 0.2 µs per backtrack: one scan of 15 relations costs ~10 µs).
///
/// The subset covers what catalog mappings are made of: `.`, `.a.b`, `."a"`, `E[]`, `E[]?`,
/// string literals without escapes, plain integers, `true`/`false`/`null`, `|`, `,`, `//`, `and`, `or`, `==`,
/// `!=`, `+`, `[E]`, `(E)`, `if … then … elif … else … end`, `select(E)`, `startswith(E)`,
/// `tostring`, `not`, `empty` and `#` comments. Anything else is not accepted, and the field is
/// always evaluated by libjq.
///
/// Every evaluation uses libjq's own jv values and functions (`jv_object_get`, `jv_string_concat`,
/// `jv_dump_string`, `jv_object_iter`…) or their exact equivalent (string equality and prefixes
/// compare bytes, as libjq does), so a result equals libjq's. Whenever jq would raise an error (a
/// wrong type anywhere), the evaluator gives up with `.bail` and the caller runs the expression
/// with libjq instead, which yields the authoritative value or error message. The differential
/// tests compare both on every built-in expression and on odd inputs.
///
/// The parse tree is lowered to a flat instruction array. Sub-expressions with exactly one
/// output are computed directly (`single`); generators pass outputs to a closure (`run`); and
/// `E[] | select(C) | M` chains — the shape of every relation expression — run as one `scan` loop.
///
/// Owns its constants (field names and literals, one jv reference each, freed in `deinit`);
/// like every jv, it must stay on one thread.
final class FastJQ {
    /// A parsed node. Constants are indices into `constants`.
    indirect enum Node {
        case identity
        /// `base.k1.k2…`; `base` nil means the input itself.
        case path(base: Node?, keys: [Int])
        case iterate(Node, optional: Bool)
        case literal(Int)
        case pipe(Node, Node)
        case comma(Node, Node)
        case alternative(Node, Node)
        case and(Node, Node)
        case or(Node, Node)
        case equal(Node, Node, negated: Bool)
        case add(Node, Node)
        case collect(Node)
        case select(Node)
        case startswith(Node)
        case tostring
        case not
        case ifThenElse(Node, Node, Node)
        case empty
    }

    /// How a generator finished: all outputs given, the consumer asked to stop, or jq would have
    /// raised an error (or the evaluator cannot be sure), so libjq must decide.
    enum Flow {
        case more
        case stop
        case bail
    }

    enum First {
        case value(jv)
        case none
        case bail
    }

    /// One lowered node. A flat array of these (children by index) is evaluated without any
    /// reference counting on the tree, which matters: the evaluator runs ~100 nodes per entity.
    struct Instruction {
        enum Op: UInt8 {
            case identity, path, iterate, literal, pipe, comma, alternative, and, or, equal, add, collect
            case select, startswith, tostring, not, ifThenElse, empty
            /// `a == "text"` / `a != "text"` (either side), `start` being the string constant.
            case equalString
            /// `startswith("text")`, `start` being the string constant.
            case startswithString
            /// `B[] | select(C) | M | …`: iterates `a` (-1: the input) and runs each element through
            /// the steps `stepTable[start..<start+count]` (single instructions; filters negated).
            case scan
        }

        var op: Op
        /// Children (-1: none; for `path` and `iterate`, -1 means the input itself).
        var a: Int32 = -1
        var b: Int32 = -1
        var c: Int32 = -1
        /// `path`: the range of its keys in `keyTable`; `literal`: the constant index.
        var start: Int32 = 0
        var count: Int32 = 0
        /// `iterate`: `E[]?`; `equal`: `!=`.
        var flag = false
        /// Exactly one output (or an error) for every input, computed by `single` without closures.
        var single = false
    }

    // All `let`: no exclusivity checks on the hot path.
    private let code: ContiguousArray<Instruction>
    private let keyTable: ContiguousArray<Int32>
    /// Steps of `scan` instructions: `i` maps through instruction `i`, `-(i + 1)` filters on it.
    private let stepTable: ContiguousArray<Int32>
    private let root: Int32
    private let constants: ContiguousArray<jv>
    /// The bytes of each string constant (borrowed from `constants`, which keeps them alive).
    private let constantBytes: ContiguousArray<UnsafeBufferPointer<UInt8>>

    /// Parses `source` (already through Ocean's quote rewrite); nil when it is outside the subset.
    init?(_ source: String) {
        var parser = FastJQParser(source)
        guard let tree = parser.parseProgram() else {
            for constant in parser.constants { jv_free(constant) }
            return nil
        }
        constants = ContiguousArray(parser.constants)
        var bytes = ContiguousArray<UnsafeBufferPointer<UInt8>>()
        var strings = Set<Int>()
        for (index, constant) in parser.constants.enumerated() {
            var buffer = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
            if jvKind(constant) == JV_KIND_STRING {
                strings.insert(index)
                let length = Int(jv_string_length_bytes(jv_copy(constant)))
                if let start = jv_string_value(constant) {
                    buffer = UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self),
                                                 count: length)
                }
            }
            bytes.append(buffer)
        }
        constantBytes = bytes
        var lowering = Lowering(stringConstants: strings)
        root = lowering.lower(tree)
        code = lowering.code
        keyTable = lowering.keyTable
        stepTable = lowering.stepTable
    }

    deinit {
        for constant in constants { jv_free(constant) }
    }

    // MARK: - Lowering

    /// Flattens a parse tree into instructions, children first.
    private struct Lowering {
        let stringConstants: Set<Int>
        var code: ContiguousArray<Instruction> = []
        var keyTable: ContiguousArray<Int32> = []
        var stepTable: ContiguousArray<Int32> = []

        /// Lowers `node` as scan steps (`select(C)` with single `C`, or single maps, joined by
        /// `|`), or returns nil and leaves nothing behind.
        mutating func scanSteps(_ node: Node) -> [Int32]? {
            let mark = (code.count, keyTable.count, stepTable.count)
            func rollback() -> [Int32]? {
                code.removeSubrange(mark.0...)
                keyTable.removeSubrange(mark.1...)
                stepTable.removeSubrange(mark.2...)
                return nil
            }
            var steps: [Int32] = []
            var pending: [Node] = [node]
            while let next = pending.popLast() {
                switch next {
                case .pipe(let left, let right):
                    pending.append(right)
                    pending.append(left)
                case .select(let condition):
                    let index = lower(condition)
                    guard isSingle(index) else { return rollback() }
                    steps.append(-(index + 1))
                default:
                    let index = lower(next)
                    guard isSingle(index) else { return rollback() }
                    steps.append(index)
                }
            }
            return steps
        }

        /// The constant index when `node` is a string literal.
        func stringLiteral(_ node: Node) -> Int? {
            if case .literal(let index) = node, stringConstants.contains(index) { return index }
            return nil
        }

        private mutating func add(_ instruction: Instruction) -> Int32 {
            code.append(instruction)
            return Int32(code.count - 1)
        }

        private func isSingle(_ index: Int32) -> Bool { index >= 0 && code[Int(index)].single }

        /// Lowers a parse tree into `code`, children first, and returns the root index.
        mutating func lower(_ node: Node) -> Int32 {
            switch node {
            case .identity:
                return add(Instruction(op: .identity, single: true))
            case .literal(let index):
                return add(Instruction(op: .literal, start: Int32(index), single: true))
            case .tostring:
                return add(Instruction(op: .tostring, single: true))
            case .not:
                return add(Instruction(op: .not, single: true))
            case .empty:
                return add(Instruction(op: .empty))
            case .path(let base, let keys):
                var a: Int32 = -1
                if let base { a = lower(base) }
                let start = Int32(keyTable.count)
                keyTable.append(contentsOf: keys.map(Int32.init))
                return add(Instruction(op: .path, a: a, start: start, count: Int32(keys.count), single: a < 0 || isSingle(a)))
            case .iterate(let base, let optional):
                var a: Int32 = -1  // `.[]` iterates the input itself
                if case .identity = base {} else { a = lower(base) }
                return add(Instruction(op: .iterate, a: a, flag: optional))
            case .pipe(.iterate(let base, let optional), let rest):
                var a: Int32 = -1
                if case .identity = base {} else { a = lower(base) }
                if let steps = scanSteps(rest) {
                    let start = Int32(stepTable.count)
                    stepTable.append(contentsOf: steps)
                    return add(Instruction(op: .scan, a: a, start: start, count: Int32(steps.count), flag: optional))
                }
                let iterate = add(Instruction(op: .iterate, a: a, flag: optional))
                return add(Instruction(op: .pipe, a: iterate, b: lower(rest)))
            case .pipe(let left, let right):
                let a = lower(left), b = lower(right)
                return add(Instruction(op: .pipe, a: a, b: b, single: isSingle(a) && isSingle(b)))
            case .comma(let left, let right):
                let a = lower(left), b = lower(right)
                return add(Instruction(op: .comma, a: a, b: b))
            case .alternative(let left, let right):
                let a = lower(left), b = lower(right)
                return add(Instruction(op: .alternative, a: a, b: b, single: isSingle(a) && isSingle(b)))
            case .and(let left, let right):
                let a = lower(left), b = lower(right)
                return add(Instruction(op: .and, a: a, b: b, single: isSingle(a) && isSingle(b)))
            case .or(let left, let right):
                let a = lower(left), b = lower(right)
                return add(Instruction(op: .or, a: a, b: b, single: isSingle(a) && isSingle(b)))
            case .equal(let left, let right, let negated):
                if let literal = stringLiteral(right) ?? stringLiteral(left) {
                    let other = stringLiteral(right) != nil ? left : right
                    let a = lower(other)
                    return add(Instruction(op: .equalString, a: a, start: Int32(literal), flag: negated, single: isSingle(a)))
                }
                let a = lower(left), b = lower(right)
                return add(Instruction(op: .equal, a: a, b: b, flag: negated, single: isSingle(a) && isSingle(b)))
            case .add(let left, let right):
                let a = lower(left), b = lower(right)
                return add(Instruction(op: .add, a: a, b: b, single: isSingle(a) && isSingle(b)))
            case .collect(let inner):
                return add(Instruction(op: .collect, a: lower(inner), single: true))
            case .select(let condition):
                return add(Instruction(op: .select, a: lower(condition)))
            case .startswith(let argument):
                if let literal = stringLiteral(argument) {
                    return add(Instruction(op: .startswithString, start: Int32(literal), single: true))
                }
                let a = lower(argument)
                return add(Instruction(op: .startswith, a: a, single: isSingle(a)))
            case .ifThenElse(let condition, let then, let otherwise):
                let a = lower(condition), b = lower(then), c = lower(otherwise)
                return add(Instruction(op: .ifThenElse, a: a, b: b, c: c, single: isSingle(a) && isSingle(b) && isSingle(c)))
            }
        }
    }

    // MARK: - Evaluation

    /// The first output for `input` (borrowed), without computing the second, like libjq's first
    /// `jq_next`. `.value` is owned by the caller.
    func first(_ input: jv) -> First {
        if code[Int(root)].single {
            guard let value = single(root, input) else { return .bail }
            return .value(value)
        }
        var result: jv?
        let flow = run(root, input) { value in
            result = value
            return .stop
        }
        switch flow {
        case .bail:
            if let result { jv_free(result) }
            return .bail
        case .stop, .more:
            if let result { return .value(result) }
            return .none
        }
    }

    private static func truthy(_ value: jv) -> Bool {
        let kind = jvKind(value)
        return kind != JV_KIND_NULL && kind != JV_KIND_FALSE
    }

    /// Evaluates a `single` instruction on `input` (borrowed): its one output (owned), or nil
    /// where jq would raise an error.
    private func single(_ index: Int32, _ input: jv) -> jv? {
        let instruction = code[Int(index)]
        switch instruction.op {
        case .identity:
            return jv_copy(input)
        case .literal:
            return jv_copy(constants[Int(instruction.start)])
        case .path:
            if instruction.a < 0 { return self.index(jv_copy(input), instruction) }
            guard let base = single(instruction.a, input) else { return nil }
            return self.index(base, instruction)
        case .pipe:
            guard let left = single(instruction.a, input) else { return nil }
            defer { jv_free(left) }
            return single(instruction.b, left)
        case .alternative:
            guard let left = single(instruction.a, input) else { return nil }
            if FastJQ.truthy(left) { return left }
            jv_free(left)
            return single(instruction.b, input)
        case .and, .or:
            guard let left = single(instruction.a, input) else { return nil }
            let isTrue = FastJQ.truthy(left)
            jv_free(left)
            if instruction.op == .and ? !isTrue : isTrue { return jvBool(isTrue) }
            guard let right = single(instruction.b, input) else { return nil }
            let rightTrue = FastJQ.truthy(right)
            jv_free(right)
            return jvBool(rightTrue)
        case .equal:
            guard let left = single(instruction.a, input) else { return nil }
            guard let right = single(instruction.b, input) else {
                jv_free(left)
                return nil
            }
            return jvBool((jv_equal(left, right) != 0) != instruction.flag)
        case .equalString:
            guard let value = single(instruction.a, input) else { return nil }
            defer { jv_free(value) }
            return jvBool(equalsString(value, instruction.start) != instruction.flag)
        case .startswithString:
            // Constants hold no NUL: `strncmp` stops at the input's terminator or at an embedded
            // NUL, and either one means the input does not start with the prefix.
            guard jvKind(input) == JV_KIND_STRING, let bytes = jv_string_value(input) else { return nil }
            let prefix = constantBytes[Int(instruction.start)]
            guard let prefixStart = prefix.baseAddress else { return jv_true() }
            return jvBool(strncmp(bytes, UnsafeRawPointer(prefixStart).assumingMemoryBound(to: CChar.self), prefix.count) == 0)
        case .add:
            guard let left = single(instruction.a, input) else { return nil }
            guard let right = single(instruction.b, input) else {
                jv_free(left)
                return nil
            }
            return FastJQ.plus(left, right)
        case .startswith:
            guard let prefix = single(instruction.a, input) else { return nil }
            defer { jv_free(prefix) }
            return FastJQ.startswith(input, prefix)
        case .tostring:
            if jvKind(input) == JV_KIND_STRING { return jv_copy(input) }
            return jv_dump_string(jv_copy(input), 0)
        case .not:
            return jvBool(!FastJQ.truthy(input))
        case .ifThenElse:
            guard let condition = single(instruction.a, input) else { return nil }
            let isTrue = FastJQ.truthy(condition)
            jv_free(condition)
            return single(isTrue ? instruction.b : instruction.c, input)
        case .collect:
            var array = jv_array()
            let flow = run(instruction.a, input) { value in
                array = jv_array_append(array, value)
                return .more
            }
            guard case .more = flow else {
                jv_free(array)
                return nil
            }
            return array
        case .iterate, .comma, .select, .empty, .scan:
            return nil  // never marked single
        }
    }

    /// Runs instruction `index` on `input` (borrowed), handing each output (owned) to `emit`.
    private func run(_ index: Int32, _ input: jv, _ emit: (jv) -> Flow) -> Flow {
        let instruction = code[Int(index)]
        if instruction.single {
            guard let value = single(index, input) else { return .bail }
            return emit(value)
        }
        switch instruction.op {
        case .empty:
            return .more

        case .iterate:
            if instruction.a < 0 { return iterate(input, optional: instruction.flag, emit) }
            if code[Int(instruction.a)].single {
                guard let container = single(instruction.a, input) else { return .bail }
                defer { jv_free(container) }
                return iterate(container, optional: instruction.flag, emit)
            }
            return run(instruction.a, input) { container in
                defer { jv_free(container) }
                return self.iterate(container, optional: instruction.flag, emit)
            }

        case .path:
            return run(instruction.a, input) { value in
                guard let indexed = self.index(value, instruction) else { return .bail }
                return emit(indexed)
            }

        case .scan:
            if instruction.a < 0 { return scan(input, instruction, emit) }
            if code[Int(instruction.a)].single {
                guard let container = single(instruction.a, input) else { return .bail }
                defer { jv_free(container) }
                return scan(container, instruction, emit)
            }
            return run(instruction.a, input) { container in
                defer { jv_free(container) }
                return self.scan(container, instruction, emit)
            }

        case .pipe:
            if code[Int(instruction.a)].single {
                guard let left = single(instruction.a, input) else { return .bail }
                defer { jv_free(left) }
                return run(instruction.b, left, emit)
            }
            return run(instruction.a, input) { value in
                defer { jv_free(value) }
                return self.run(instruction.b, value, emit)
            }

        case .comma:
            let flow = run(instruction.a, input, emit)
            guard case .more = flow else { return flow }
            return run(instruction.b, input, emit)

        case .select:
            if code[Int(instruction.a)].single {
                guard let condition = single(instruction.a, input) else { return .bail }
                let isTrue = FastJQ.truthy(condition)
                jv_free(condition)
                return isTrue ? emit(jv_copy(input)) : .more
            }
            return run(instruction.a, input) { value in
                let isTrue = FastJQ.truthy(value)
                jv_free(value)
                return isTrue ? emit(jv_copy(input)) : .more
            }

        case .alternative:
            var found = false
            let flow = run(instruction.a, input) { value in
                guard FastJQ.truthy(value) else {
                    jv_free(value)
                    return .more
                }
                found = true
                return emit(value)
            }
            guard case .more = flow else { return flow }
            return found ? .more : run(instruction.b, input, emit)

        case .and, .or:
            let isAnd = instruction.op == .and
            return run(instruction.a, input) { value in
                let isTrue = FastJQ.truthy(value)
                jv_free(value)
                if isAnd ? !isTrue : isTrue { return emit(jvBool(isTrue)) }
                return self.run(instruction.b, input) { other in
                    let otherTrue = FastJQ.truthy(other)
                    jv_free(other)
                    return emit(jvBool(otherTrue))
                }
            }

        case .equal, .add:
            // Both operands yield at most one value (checked when parsing); both are evaluated
            // before anything else, so an error in either one always bails.
            guard let pair = operands(instruction.a, instruction.b, input) else { return .bail }
            guard let values = pair else { return .more }
            let (left, right) = values
            if instruction.op == .equal { return emit(jvBool((jv_equal(left, right) != 0) != instruction.flag)) }
            guard let sum = FastJQ.plus(left, right) else { return .bail }
            return emit(sum)

        case .equalString:
            guard let pair = operands(instruction.a, -1, input) else { return .bail }
            guard let values = pair else { return .more }
            defer {
                jv_free(values.0)
                jv_free(values.1)
            }
            return emit(jvBool(equalsString(values.0, instruction.start) != instruction.flag))

        case .startswith:
            guard let pair = operands(instruction.a, -1, input) else { return .bail }
            guard let values = pair else { return .more }
            let prefix = values.0
            jv_free(values.1)
            defer { jv_free(prefix) }
            guard let result = FastJQ.startswith(input, prefix) else { return .bail }
            return emit(result)

        case .ifThenElse:
            return run(instruction.a, input) { value in
                let isTrue = FastJQ.truthy(value)
                jv_free(value)
                return self.run(isTrue ? instruction.b : instruction.c, input, emit)
            }

        case .identity, .literal, .collect, .tostring, .not, .startswithString:
            return .bail  // always single
        }
    }

    /// `container[] | steps…` without a closure per element: filters drop elements, maps replace them.
    private func scan(_ container: jv, _ instruction: Instruction, _ emit: (jv) -> Flow) -> Flow {
        let first = Int(instruction.start)
        let end = first + Int(instruction.count)
        return iterate(container, optional: instruction.flag) { element in
            var current = element
            var position = first
            while position < end {
                let step = stepTable[position]
                if step < 0 {
                    guard let condition = single(-step - 1, current) else {
                        jv_free(current)
                        return .bail
                    }
                    let keep = FastJQ.truthy(condition)
                    jv_free(condition)
                    guard keep else {
                        jv_free(current)
                        return .more
                    }
                } else {
                    let next = single(step, current)
                    jv_free(current)
                    guard let next else { return .bail }
                    current = next
                }
                position += 1
            }
            return emit(current)
        }
    }

    /// Emits the elements of an array or the values of an object (borrowed container), in
    /// libjq's order; anything else is an error, or nothing for `E[]?`.
    private func iterate(_ container: jv, optional: Bool, _ emit: (jv) -> Flow) -> Flow {
        switch jvKind(container) {
        case JV_KIND_ARRAY:
            let count = jv_array_length(jv_copy(container))
            var position: Int32 = 0
            while position < count {
                let flow = emit(jv_array_get(jv_copy(container), position))
                if case .more = flow {} else { return flow }
                position += 1
            }
            return .more
        case JV_KIND_OBJECT:
            var iterator = jv_object_iter(container)
            while jv_object_iter_valid(container, iterator) != 0 {
                let flow = emit(jv_object_iter_value(container, iterator))
                if case .more = flow {} else { return flow }
                iterator = jv_object_iter_next(container, iterator)
            }
            return .more
        default:
            return optional ? .more : .bail
        }
    }

    /// `value.k1.k2…` (consumes `value`): objects give the member or null, null gives null; any
    /// other type is a jq error, so nil.
    private func index(_ value: jv, _ instruction: Instruction) -> jv? {
        var current = value
        var position = Int(instruction.start)
        let end = position + Int(instruction.count)
        while position < end {
            switch jvKind(current) {
            case JV_KIND_OBJECT:
                let member = jv_object_get(current, jv_copy(constants[Int(keyTable[position])]))
                if jvKind(member) == JV_KIND_INVALID {
                    jv_free(member)
                    current = jv_null()
                } else {
                    current = member
                }
            case JV_KIND_NULL:
                break
            default:
                jv_free(current)
                return nil
            }
            position += 1
        }
        return current
    }

    /// Evaluates up to two at-most-one-valued operands (`b` may be -1) on the same input: nil to
    /// bail, `.some(nil)` when one has no output, else both values (owned; the second is null
    /// when `b` is -1).
    private func operands(_ a: Int32, _ b: Int32, _ input: jv) -> (jv, jv)?? {
        var left: jv?
        var right: jv?
        let leftFlow = run(a, input) { value in
            left = value
            return .stop
        }
        let rightFlow: Flow = b < 0 ? .more : run(b, input) { value in
            right = value
            return .stop
        }
        if b < 0 { right = jv_null() }
        var bailed = false
        if case .bail = leftFlow { bailed = true }
        if case .bail = rightFlow { bailed = true }
        guard !bailed, let left, let right else {
            if let left { jv_free(left) }
            if let right { jv_free(right) }
            return bailed ? nil : .some(nil)
        }
        return (left, right)
    }

    /// `jv_equal(value, constant)` for a string constant, on borrowed bytes (libjq compares
    /// strings by length and bytes). Constants hold no NUL, and jv strings are NUL-terminated, so
    /// `strncmp` stops at the value's end; only a full match needs the value's real length.
    private func equalsString(_ value: jv, _ constant: Int32) -> Bool {
        guard jvKind(value) == JV_KIND_STRING, let bytes = jv_string_value(value) else { return false }
        let text = constantBytes[Int(constant)]
        if let start = text.baseAddress {
            guard strncmp(bytes, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), text.count) == 0 else {
                return false
            }
        }
        guard bytes[text.count] == 0 else { return false }
        return Int(jv_string_length_bytes(jv_copy(value))) == text.count  // an embedded NUL is not the end
    }

    /// jq's `startswith` on a borrowed input and prefix: both must be strings.
    private static func startswith(_ input: jv, _ prefix: jv) -> jv? {
        guard jvKind(input) == JV_KIND_STRING, jvKind(prefix) == JV_KIND_STRING else { return nil }
        let inputLength = Int(jv_string_length_bytes(jv_copy(input)))
        let prefixLength = Int(jv_string_length_bytes(jv_copy(prefix)))
        guard prefixLength <= inputLength else { return jv_false() }
        guard let inputBytes = jv_string_value(input), let prefixBytes = jv_string_value(prefix) else { return nil }
        return jvBool(memcmp(inputBytes, prefixBytes, prefixLength) == 0)
    }

    /// jq's `+` (consumes both): null is the identity; numbers add; strings, arrays and objects
    /// concatenate or merge. Other pairs are a jq error, so nil.
    private static func plus(_ a: jv, _ b: jv) -> jv? {
        let kindA = jvKind(a)
        let kindB = jvKind(b)
        if kindA == JV_KIND_NULL {
            jv_free(a)
            return b
        }
        if kindB == JV_KIND_NULL {
            jv_free(b)
            return a
        }
        if kindA == JV_KIND_NUMBER, kindB == JV_KIND_NUMBER {
            let sum = jv_number(jv_number_value(a) + jv_number_value(b))
            jv_free(a)
            jv_free(b)
            return sum
        }
        if kindA == JV_KIND_STRING, kindB == JV_KIND_STRING { return jv_string_concat(a, b) }
        if kindA == JV_KIND_ARRAY, kindB == JV_KIND_ARRAY { return jv_array_concat(a, b) }
        if kindA == JV_KIND_OBJECT, kindB == JV_KIND_OBJECT { return jv_object_merge(a, b) }
        jv_free(a)
        jv_free(b)
        return nil
    }
}

@available(*, unavailable)
extension FastJQ: Sendable {}

/// Recursive-descent parser for `FastJQ`'s subset, following jq 1.6's grammar and precedence
/// (`|` < `,` < `//` < `or` < `and` < `==`/`!=` < `+` < postfix). It returns nil for anything it
/// does not fully understand; it never guesses.
struct FastJQParser {
    private enum Token: Equatable {
        case dot                 // .
        case field(String)       // .name or ."name"
        case string(String)      // "text" (no escapes)
        case integer(Double)     // 0, 42: plain decimal integers only
        case identifier(String)  // keywords and function names
        case punct(String)       // [ ] ( ) | , ? // == != +
        case end
    }

    private(set) var constants: [jv] = []
    private var tokens: [Token] = []
    private var position = 0
    private var valid = true

    init(_ source: String) {
        if let tokens = FastJQParser.tokenize(Array(source.utf8)) {
            self.tokens = tokens
        } else {
            valid = false
        }
    }

    /// The whole text as one expression, or nil.
    mutating func parseProgram() -> FastJQ.Node? {
        guard valid, let node = parsePipe(), peek == .end else { return nil }
        return node
    }

    // MARK: Lexer

    private static let keywords: Set<String> = [
        "if", "then", "elif", "else", "end", "and", "or", "as", "def", "reduce", "foreach", "try", "catch",
        "label", "import", "include", "module", "__loc__",
    ]

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= 0x30 && byte <= 0x39)
    }

    private static func tokenize(_ bytes: [UInt8]) -> [Token]? {
        var tokens: [Token] = []
        var index = 0
        let count = bytes.count
        func identifier(from start: Int) -> (String, Int) {
            var end = start
            while end < count, isIdentifierByte(bytes[end]) { end += 1 }
            return (String(decoding: bytes[start..<end], as: UTF8.self), end)
        }
        func stringLiteral(from start: Int) -> (String, Int)? {
            // `start` is just after the opening quote. No escapes, no control characters.
            var end = start
            while end < count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") || bytes[end] < 0x20 { return nil }
                end += 1
            }
            guard end < count else { return nil }
            return (String(decoding: bytes[start..<end], as: UTF8.self), end + 1)
        }
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "#"):
                while index < count, bytes[index] != UInt8(ascii: "\n") {
                    if bytes[index] == UInt8(ascii: "\\") || bytes[index] == UInt8(ascii: "\r") { return nil }
                    index += 1
                }
            case UInt8(ascii: "."):
                if index + 1 < count, isIdentifierStart(bytes[index + 1]) {
                    let (name, end) = identifier(from: index + 1)
                    if keywords.contains(name) { return nil }
                    tokens.append(.field(name))
                    index = end
                } else if index + 1 < count, bytes[index + 1] == UInt8(ascii: "\"") {
                    guard let (text, end) = stringLiteral(from: index + 2) else { return nil }
                    tokens.append(.field(text))
                    index = end
                } else if index + 1 < count, bytes[index + 1] == UInt8(ascii: ".") || isDigit(bytes[index + 1]) {
                    return nil  // `..` or a number like `.5`
                } else {
                    tokens.append(.dot)
                    index += 1
                }
            case UInt8(ascii: "\""):
                guard let (text, end) = stringLiteral(from: index + 1) else { return nil }
                tokens.append(.string(text))
                index = end
            case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: ","), UInt8(ascii: "?"):
                tokens.append(.punct(String(UnicodeScalar(byte))))
                index += 1
            case UInt8(ascii: "|"):
                if index + 1 < count, bytes[index + 1] == UInt8(ascii: "=") { return nil }
                tokens.append(.punct("|"))
                index += 1
            case UInt8(ascii: "/"):
                guard index + 1 < count, bytes[index + 1] == UInt8(ascii: "/") else { return nil }
                if index + 2 < count, bytes[index + 2] == UInt8(ascii: "=") { return nil }
                tokens.append(.punct("//"))
                index += 2
            case UInt8(ascii: "="), UInt8(ascii: "!"):
                guard index + 1 < count, bytes[index + 1] == UInt8(ascii: "=") else { return nil }
                tokens.append(.punct(byte == UInt8(ascii: "=") ? "==" : "!="))
                index += 2
            case UInt8(ascii: "+"):
                if index + 1 < count, bytes[index + 1] == UInt8(ascii: "=") { return nil }
                tokens.append(.punct("+"))
                index += 1
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // Plain integers of at most 15 digits convert exactly; anything fancier goes to libjq.
                var end = index
                while end < count, isDigit(bytes[end]) { end += 1 }
                if end < count, isIdentifierByte(bytes[end]) || bytes[end] == UInt8(ascii: ".") { return nil }
                guard end - index <= 15, let value = Double(String(decoding: bytes[index..<end], as: UTF8.self)) else {
                    return nil
                }
                tokens.append(.integer(value))
                index = end
            default:
                guard isIdentifierStart(byte) else { return nil }
                let (name, end) = identifier(from: index)
                if end < count, bytes[end] == UInt8(ascii: ":") { return nil }  // module::name
                tokens.append(.identifier(name))
                index = end
            }
        }
        tokens.append(.end)
        return tokens
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    // MARK: Grammar

    private var peek: Token { tokens[position] }

    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    private mutating func accept(_ token: Token) -> Bool {
        guard peek == token else { return false }
        advance()
        return true
    }

    private mutating func constant(_ value: jv) -> Int {
        constants.append(value)
        return constants.count - 1
    }

    /// pipe := comma ('|' pipe)?
    private mutating func parsePipe() -> FastJQ.Node? {
        guard let left = parseComma() else { return nil }
        if accept(.punct("|")) {
            guard let right = parsePipe() else { return nil }
            return .pipe(left, right)
        }
        return left
    }

    /// comma := alternative (',' alternative)*
    private mutating func parseComma() -> FastJQ.Node? {
        guard var left = parseAlternative() else { return nil }
        while accept(.punct(",")) {
            guard let right = parseAlternative() else { return nil }
            left = .comma(left, right)
        }
        return left
    }

    /// alternative := or ('//' alternative)?   (right-associative)
    private mutating func parseAlternative() -> FastJQ.Node? {
        guard let left = parseOr() else { return nil }
        if accept(.punct("//")) {
            guard let right = parseAlternative() else { return nil }
            return .alternative(left, right)
        }
        return left
    }

    private mutating func parseOr() -> FastJQ.Node? {
        guard var left = parseAnd() else { return nil }
        while accept(.identifier("or")) {
            guard let right = parseAnd() else { return nil }
            left = .or(left, right)
        }
        return left
    }

    private mutating func parseAnd() -> FastJQ.Node? {
        guard var left = parseComparison() else { return nil }
        while accept(.identifier("and")) {
            guard let right = parseComparison() else { return nil }
            left = .and(left, right)
        }
        return left
    }

    /// comparison := add (('==' | '!=') add)?   (non-associative)
    private mutating func parseComparison() -> FastJQ.Node? {
        guard let left = parseAdd() else { return nil }
        let negated: Bool
        if accept(.punct("==")) {
            negated = false
        } else if accept(.punct("!=")) {
            negated = true
        } else {
            return left
        }
        guard let right = parseAdd(), FastJQParser.atMostOne(left), FastJQParser.atMostOne(right) else { return nil }
        if peek == .punct("==") || peek == .punct("!=") { return nil }
        return .equal(left, right, negated: negated)
    }

    private mutating func parseAdd() -> FastJQ.Node? {
        guard var left = parsePostfix() else { return nil }
        while accept(.punct("+")) {
            guard let right = parsePostfix(), FastJQParser.atMostOne(left), FastJQParser.atMostOne(right) else {
                return nil
            }
            left = .add(left, right)
        }
        return left
    }

    /// postfix := term ( FIELD | '[' ']' '?'? )*
    private mutating func parsePostfix() -> FastJQ.Node? {
        guard var node = parseTerm() else { return nil }
        while true {
            if case .field(let name) = peek {
                advance()
                if peek == .punct("?") { return nil }  // `.a?`: not in the subset
                let key = constant(jv.string(name))
                if case .path(let base, let keys) = node {
                    node = .path(base: base, keys: keys + [key])
                } else if case .identity = node {
                    node = .path(base: nil, keys: [key])
                } else {
                    node = .path(base: node, keys: [key])
                }
            } else if peek == .punct("["), tokens[position + 1] == .punct("]") {
                advance()
                advance()
                node = .iterate(node, optional: accept(.punct("?")))
            } else {
                break
            }
        }
        if peek == .punct("?") { return nil }
        return node
    }

    private mutating func parseTerm() -> FastJQ.Node? {
        switch peek {
        case .dot:
            advance()
            return .identity
        case .field(let name):
            advance()
            if peek == .punct("?") { return nil }
            return .path(base: nil, keys: [constant(jv.string(name))])
        case .string(let text):
            advance()
            return .literal(constant(jv.string(text)))
        case .integer(let value):
            advance()
            return .literal(constant(jv_number(value)))
        case .punct("("):
            advance()
            guard let inner = parsePipe(), accept(.punct(")")) else { return nil }
            return inner
        case .punct("["):
            advance()
            guard let inner = parsePipe(), accept(.punct("]")) else { return nil }
            return .collect(inner)
        case .identifier(let name):
            advance()
            switch name {
            case "true": return .literal(constant(jv_true()))
            case "false": return .literal(constant(jv_false()))
            case "null": return .literal(constant(jv_null()))
            case "empty": return noArguments() ? .empty : nil
            case "not": return noArguments() ? .not : nil
            case "tostring": return noArguments() ? .tostring : nil
            case "select":
                guard let argument = singleArgument() else { return nil }
                return .select(argument)
            case "startswith":
                guard let argument = singleArgument(), FastJQParser.atMostOne(argument) else { return nil }
                return .startswith(argument)
            case "if":
                return parseIf()
            default:
                return nil
            }
        default:
            return nil
        }
    }

    private mutating func noArguments() -> Bool { peek != .punct("(") }

    private mutating func singleArgument() -> FastJQ.Node? {
        guard accept(.punct("(")), let argument = parsePipe(), accept(.punct(")")) else { return nil }
        return argument
    }

    /// After `if`: cond 'then' pipe ('elif' cond 'then' pipe)* 'else' pipe 'end'. jq 1.6 requires `else`.
    private mutating func parseIf() -> FastJQ.Node? {
        guard let condition = parsePipe(), accept(.identifier("then")), let then = parsePipe() else { return nil }
        if accept(.identifier("elif")) {
            guard let rest = parseIf() else { return nil }
            return .ifThenElse(condition, then, rest)
        }
        guard accept(.identifier("else")), let otherwise = parsePipe(), accept(.identifier("end")) else { return nil }
        return .ifThenElse(condition, then, otherwise)
    }

    /// Whether a node yields at most one output for any input (operands of `==`, `+` and
    /// `startswith` must, so the order of jq's cartesian products never matters).
    static func atMostOne(_ node: FastJQ.Node) -> Bool {
        switch node {
        case .identity, .literal, .empty, .collect, .tostring, .not, .equal, .add, .startswith:
            return true
        case .path(let base, _):
            return base.map(atMostOne) ?? true
        case .iterate, .comma:
            return false
        case .pipe(let a, let b), .alternative(let a, let b), .and(let a, let b), .or(let a, let b):
            return atMostOne(a) && atMostOne(b)
        case .select(let condition):
            return atMostOne(condition)
        case .ifThenElse(let condition, let then, let otherwise):
            return atMostOne(condition) && atMostOne(then) && atMostOne(otherwise)
        }
    }
}

/// `jv_get_kind` without the call: libjq 1.6 keeps the kind in the low four bits of
/// `kind_flags` (jv.h's public struct; `jv_get_kind` is `x.kind_flags & KIND_MASK`).
@inline(__always)
func jvKind(_ value: jv) -> jv_kind {
    jv_kind(rawValue: UInt32(value.kind_flags & 0x0F))
}

/// `jv_bool` for a Swift `Bool`.
func jvBool(_ flag: Bool) -> jv {
    jv_bool(flag ? 1 : 0)
}
