import Testing
@testable import KilnServer

@Suite struct KilnServerPlaceholderTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
