import PostgresNIO

/// A piece of SQL with bound values that can be interpolated into a `PostgresQuery` (or another
/// fragment), keeping every value a bind parameter: the values are numbered where the fragment lands.
///
/// `PostgresQuery` interpolation cannot embed another query's binds, and the check that decides
/// whether a slot can be taken is shared by the booking, move and hold statements; this keeps it in
/// one place without splicing values into SQL text.
struct SQLFragment: ExpressibleByStringInterpolation, Sendable {
    fileprivate enum Piece: Sendable {
        case text(String)
        case value(@Sendable (inout PostgresQuery.StringInterpolation) -> Void)
    }

    fileprivate var pieces: [Piece]

    init(stringLiteral value: String) {
        pieces = [.text(value)]
    }

    init(stringInterpolation: StringInterpolation) {
        pieces = stringInterpolation.pieces
    }

    /// Builds a fragment the way `PostgresQuery` builds a query: `\(value)` binds, `\(unescaped:)` splices
    /// trusted SQL text, and `\(fragment)` embeds another fragment.
    struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var pieces: [Piece] = []

        init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(interpolationCount * 2 + 1)
        }

        mutating func appendLiteral(_ literal: String) {
            pieces.append(.text(literal))
        }

        mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable & Sendable>(_ value: Value) {
            pieces.append(.value { $0.appendInterpolation(value) })
        }

        mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable & Sendable>(_ value: Value?) {
            pieces.append(.value { $0.appendInterpolation(value) })
        }

        mutating func appendInterpolation(unescaped text: String) {
            pieces.append(.text(text))
        }

        mutating func appendInterpolation(_ fragment: SQLFragment) {
            pieces.append(contentsOf: fragment.pieces)
        }
    }
}

extension PostgresQuery.StringInterpolation {
    /// Embeds `fragment`: its text as is, its values as bind parameters numbered after those before it.
    mutating func appendInterpolation(_ fragment: SQLFragment) {
        for piece in fragment.pieces {
            switch piece {
            case .text(let text): appendLiteral(text)
            case .value(let bind): bind(&self)
            }
        }
    }
}
