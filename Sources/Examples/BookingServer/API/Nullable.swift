/// An optional field that is written as JSON `null` when absent (the seed's shape always has the key),
/// where a plain optional would leave the key out.
struct Nullable<Value: Encodable>: Encodable {
    let value: Value?

    init(_ value: Value?) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
