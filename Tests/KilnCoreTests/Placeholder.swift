import Testing
@testable import KilnCore

@Suite struct KilnCorePlaceholderTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
